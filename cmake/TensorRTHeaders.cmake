# Locates TensorRT's C++ headers for the plugin library. Sets TRTPLUG_TRT_INCLUDE_DIR (empty when
# none), TRTPLUG_TRT_HEADER_SOURCE (where they came from, or why not) and
# TRTPLUG_TRT_HEADER_VERSION. Order: TensorRT_INCLUDE_DIR, TensorRT_ROOT (cache or env),
# then, with TRTPLUG_FETCH_TENSORRT_HEADERS=ON, the hash-checked kernel-lens wheel (needs pip in
# the build's Python: use --no-build-isolation, or run cmake/fetch_tensorrt_headers.py first and
# pass its folder as TensorRT_INCLUDE_DIR, as scripts/setup.sh does).
set(TensorRT_INCLUDE_DIR "" CACHE PATH "Directory containing NvInferRuntime.h")
set(TensorRT_ROOT "$ENV{TensorRT_ROOT}" CACHE PATH "TensorRT installation root")
option(TRTPLUG_FETCH_TENSORRT_HEADERS
  "Download TensorRT headers from the hash-checked kernel-lens==2.0.1 wheel" OFF)

set(TRTPLUG_TRT_INCLUDE_DIR "")
set(TRTPLUG_TRT_HEADER_SOURCE "no TensorRT headers (TensorRT_ROOT/TensorRT_INCLUDE_DIR unset)")
if(TensorRT_INCLUDE_DIR)
  set(_candidate "${TensorRT_INCLUDE_DIR}")
  set(_source "TensorRT_INCLUDE_DIR=${TensorRT_INCLUDE_DIR}")
elseif(TensorRT_ROOT)
  set(_candidate "${TensorRT_ROOT}/include")
  set(_source "TensorRT_ROOT=${TensorRT_ROOT}")
elseif(TRTPLUG_FETCH_TENSORRT_HEADERS)
  set(_candidate "${CMAKE_BINARY_DIR}/tensorrt-headers")
  set(_source "kernel-lens==2.0.1 wheel (sha256-checked)")
  execute_process(
    COMMAND "${Python_EXECUTABLE}" "${CMAKE_CURRENT_LIST_DIR}/fetch_tensorrt_headers.py"
            --dest "${_candidate}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(WARNING "trtplug: fetching TensorRT headers failed: ${_err}")
    set(_candidate "")
    set(TRTPLUG_TRT_HEADER_SOURCE "fetch of kernel-lens headers failed: ${_err}")
  endif()
endif()

if(_candidate)
  if(EXISTS "${_candidate}/NvInferRuntime.h")
    set(TRTPLUG_TRT_INCLUDE_DIR "${_candidate}")
    set(TRTPLUG_TRT_HEADER_SOURCE "${_source}")
    if(EXISTS "${_candidate}/TRTPLUG_HEADER_SOURCE.txt")  # written by fetch_tensorrt_headers.py
      file(READ "${_candidate}/TRTPLUG_HEADER_SOURCE.txt" _origin)
      string(STRIP "${_origin}" _origin)
      set(TRTPLUG_TRT_HEADER_SOURCE "${_origin} at ${_candidate}")
    endif()
    file(STRINGS "${_candidate}/NvInferVersion.h" _ver REGEX "^#define TRT_(MAJOR|MINOR|PATCH)_[A-Z]+ [0-9]+")
    string(REGEX MATCHALL "[0-9]+" _nums "${_ver}")
    list(SUBLIST _nums 0 3 _mmp)
    list(JOIN _mmp "." TRTPLUG_TRT_HEADER_VERSION)
    message(STATUS "trtplug: TensorRT ${TRTPLUG_TRT_HEADER_VERSION} headers from ${_source}")
  else()
    set(TRTPLUG_TRT_HEADER_SOURCE "NvInferRuntime.h not found in ${_candidate} (${_source})")
  endif()
endif()
