#!/usr/bin/env bash
# The plugin library and the plugin host built against TensorRT 11 headers with C++20 (the default
# build uses the kernel-lens TensorRT 10.14 headers and C++17), then the plugin-host tests run
# against that build. TensorRT 11 removed the legacy creator overloads and weak typing; this keeps
# the plugins building and behaving on both.
#   TRTPLUG_TRT11_INCLUDE=/path/to/tensorrt-11/include bash scripts/build_tensorrt11.sh
# Without TRTPLUG_TRT11_INCLUDE (or with a folder lacking NvInferRuntime.h) it says why and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
INCLUDE=${TRTPLUG_TRT11_INCLUDE:-}
if [ -z "$INCLUDE" ] || [ ! -f "$INCLUDE/NvInferRuntime.h" ]; then
  echo "TensorRT 11 build skipped: set TRTPLUG_TRT11_INCLUDE to a folder with TensorRT 11's NvInferRuntime.h"
  exit 0
fi
BUILD=${TRTPLUG_TRT11_BUILD:-build-tensorrt11}
PYBIND=$(.venv/bin/python -c "import pybind11; print(pybind11.get_cmake_dir())")
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=20 \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDAARCHS:-90-real}" -DPython_EXECUTABLE="$PWD/.venv/bin/python" \
  -Dpybind11_DIR="$PYBIND" -DTensorRT_INCLUDE_DIR="$INCLUDE" >"$BUILD.log" 2>&1 \
  || { tail -30 "$BUILD.log"; exit 1; }
grep -o '"tensorrt_header_version" *: *"[^"]*"' "$BUILD/build_info.json" || true
cmake --build "$BUILD" --target trtplug_plugins _plugin_host trtplug_host_probe >>"$BUILD.log" 2>&1 \
  || { grep -E "error|Error" "$BUILD.log" | head -30; exit 1; }
echo "TensorRT 11 build: $(ls "$BUILD"/libtrtplug_plugins.so "$BUILD"/plugins/host/_plugin_host*.so | xargs -n1 basename | tr '\n' ' ')"
TRTPLUG_NATIVE_DIR="$PWD/$BUILD" TRTPLUG_REQUIRE_NATIVE=1 PYTHONSAFEPATH=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/test_plugin_library.py tests/test_spec_drift.py tests/test_generate_op_glue.py \
  "tests/test_scatter.py::test_scatter_output_is_aliased_to_data"
