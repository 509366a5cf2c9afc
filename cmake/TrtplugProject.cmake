# Builds a trtplug plugin project (`trtplug new --project DIR`): every op under a plugins folder
# into <package>._native (pybind11) and lib<package>_plugins.so (IPluginV3), installed into
# <package>/ with the specs, against the shared sources and headers of this trtplug
# (plugins/common, found relative to this file in a source checkout and in the installed package),
# each op's C++ glue generated from its spec by the generate_op_glue.py shipped beside this file.
include_guard(GLOBAL)
# The settings trtplug's own build uses: the kernels link into shared objects, only the
# plugin library's entry points are exported.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_CUDA_VISIBILITY_PRESET hidden)
include("${CMAKE_CURRENT_LIST_DIR}/TrtplugOps.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/TensorRTHeaders.cmake")
get_filename_component(TRTPLUG_SHARED_PLUGINS_DIR "${CMAKE_CURRENT_LIST_DIR}/../plugins" ABSOLUTE)

function(trtplug_plugin_project package plugins_dir)
  if(NOT Python_EXECUTABLE) # the glue generator runs under it
    find_package(Python 3.10 REQUIRED COMPONENTS Interpreter Development.Module)
  endif()
  find_package(CUDAToolkit REQUIRED)
  find_package(pybind11 CONFIG REQUIRED)
  set(common "${TRTPLUG_SHARED_PLUGINS_DIR}/common")
  trtplug_discover_ops("${plugins_dir}" ops kernels bindings plugins)
  message(STATUS "${package} ops: ${ops}")

  # Each op's generated glue (<op>/op_glue.h: identity, counts, Params, value rules), written by
  # the generator shipped next to this file; launchers, bindings and plugins all include it.
  set(glue_dir "${CMAKE_CURRENT_BINARY_DIR}/generated")
  trtplug_generate_op_glue("${plugins_dir}" "${ops}" "${glue_dir}" glue_target)

  add_library(${package}_kernels STATIC ${kernels})
  target_include_directories(${package}_kernels PUBLIC "${plugins_dir}" "${TRTPLUG_SHARED_PLUGINS_DIR}" "${glue_dir}")
  target_link_libraries(${package}_kernels PUBLIC CUDA::cudart_static)
  add_dependencies(${package}_kernels ${glue_target})

  pybind11_add_module(_native "${common}/binding_module.cpp" "${common}/binding.cpp" ${bindings})
  target_link_libraries(_native PRIVATE ${package}_kernels)
  add_dependencies(_native ${glue_target})
  string(REPLACE ";" "," archs "${CMAKE_CUDA_ARCHITECTURES}")
  target_compile_definitions(_native PRIVATE "TRTPLUG_CUDA_ARCHS=\"${archs}\"")
  install(TARGETS _native LIBRARY DESTINATION ${package})

  if(TRTPLUG_TRT_INCLUDE_DIR)
    add_library(${package}_plugins SHARED "${common}/plugin_library.cpp" "${common}/plugin_override.cpp" ${plugins})
    target_include_directories(${package}_plugins SYSTEM PRIVATE "${TRTPLUG_TRT_INCLUDE_DIR}")
    target_link_libraries(${package}_plugins PRIVATE ${package}_kernels)
    add_dependencies(${package}_plugins ${glue_target})
    target_link_options(${package}_plugins PRIVATE "LINKER:--no-undefined"
      "LINKER:--version-script=${common}/plugin_library.map")
    install(TARGETS ${package}_plugins LIBRARY DESTINATION ${package})
  else()
    message(WARNING "${package}: TensorRT headers not found (${TRTPLUG_TRT_HEADER_SOURCE}); the IPluginV3 "
      "plugin library is SKIPPED. Set TensorRT_ROOT or TensorRT_INCLUDE_DIR.")
  endif()
  install(DIRECTORY "${plugins_dir}/" DESTINATION ${package}/plugins FILES_MATCHING PATTERN "spec.toml")
endfunction()
