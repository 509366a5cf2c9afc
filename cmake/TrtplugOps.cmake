# Op discovery: every folder plugins/<op>/ with a spec.toml is an op (or an op family). Its *.cu files are
# kernels, binding.cpp its pybind11 binding, plugin.cpp its IPluginV3 adapter. Adding an op
# means adding its folder; no list here is edited.
function(trtplug_discover_ops plugins_dir out_ops out_kernels out_bindings out_plugins)
  file(GLOB specs CONFIGURE_DEPENDS "${plugins_dir}/*/spec.toml")
  set(ops "")
  set(kernels "")
  set(bindings "")
  set(plugins "")
  foreach(spec IN LISTS specs)
    get_filename_component(dir "${spec}" DIRECTORY)
    get_filename_component(op "${dir}" NAME)
    list(APPEND ops "${op}")
    file(GLOB cu CONFIGURE_DEPENDS "${dir}/*.cu")
    list(APPEND kernels ${cu})
    if(EXISTS "${dir}/binding.cpp")
      list(APPEND bindings "${dir}/binding.cpp")
    endif()
    if(EXISTS "${dir}/plugin.cpp")
      list(APPEND plugins "${dir}/plugin.cpp")
    endif()
  endforeach()
  # Kernels shared by several ops (the attention core) live in plugins/common/*.cu.
  file(GLOB shared_cu CONFIGURE_DEPENDS "${plugins_dir}/common/*.cu")
  list(APPEND kernels ${shared_cu})
  set(${out_ops} "${ops}" PARENT_SCOPE)
  set(${out_kernels} "${kernels}" PARENT_SCOPE)
  set(${out_bindings} "${bindings}" PARENT_SCOPE)
  set(${out_plugins} "${plugins}" PARENT_SCOPE)
endfunction()

# Generated glue: one header per op folder, <binary dir>/generated/<op>/op_glue.h, written by
# cmake/generate_op_glue.py from the folder's spec (one glue namespace per op, several for an op
# family); re-run only when the spec or the generator changes.
# Sources include it as "<op>/op_glue.h". Sets out_target to a target the consumers depend on.
function(trtplug_generate_op_glue plugins_dir ops out_dir out_target)
  set(generator "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/generate_op_glue.py")
  set(templates "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/templates/op_glue.h.in"
    "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/templates/op_glue_member.h.in")
  set(headers "")
  foreach(op IN LISTS ops)
    set(header "${out_dir}/${op}/op_glue.h")
    add_custom_command(
      OUTPUT "${header}"
      COMMAND "${Python_EXECUTABLE}" "${generator}" "${plugins_dir}/${op}/spec.toml" "${header}"
      DEPENDS "${plugins_dir}/${op}/spec.toml" "${generator}" ${templates}
      COMMENT "trtplug: generating ${op}/op_glue.h"
      VERBATIM)
    list(APPEND headers "${header}")
  endforeach()
  add_custom_target(trtplug_op_glue DEPENDS ${headers})
  set(${out_target} trtplug_op_glue PARENT_SCOPE)
endfunction()

function(trtplug_write_build_info path)
  string(JSON info SET "{}" cuda_architectures "\"${CMAKE_CUDA_ARCHITECTURES}\"")
  string(JSON info SET "${info}" cuda_compiler_version "\"${CMAKE_CUDA_COMPILER_VERSION}\"")
  string(JSON info SET "${info}" tensorrt_include_dir "\"${TRTPLUG_TRT_INCLUDE_DIR}\"")
  string(JSON info SET "${info}" tensorrt_header_source "\"${TRTPLUG_TRT_HEADER_SOURCE}\"")
  string(JSON info SET "${info}" tensorrt_header_version "\"${TRTPLUG_TRT_HEADER_VERSION}\"")
  string(JSON info SET "${info}" plugin_library "\"${TRTPLUG_PLUGIN_LIBRARY_STATUS}\"")
  file(WRITE "${path}" "${info}\n")
endfunction()
