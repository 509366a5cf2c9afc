#!/usr/bin/env bash
# Create .venv and install trtplug into it (editable), compiling the CUDA kernels, the
# pybind11 module, and the IPluginV3 plugin library. TensorRT headers: $TensorRT_ROOT if set,
# else the hash-checked kernel-lens wheel; cuDNN headers from their wheels (cmake/fetch_cudnn_headers.py).
# Re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip

CMAKE_ARGS=()
if [ -n "${TensorRT_ROOT:-}" ]; then
  CMAKE_ARGS+=("-Ccmake.define.TensorRT_ROOT=${TensorRT_ROOT}")
else
  HEADERS="$PWD/.cache/tensorrt-headers"
  .venv/bin/python cmake/fetch_tensorrt_headers.py --dest "$HEADERS" >/dev/null
  CMAKE_ARGS+=("-Ccmake.define.TensorRT_INCLUDE_DIR=${HEADERS}")
fi
# cuDNN + cudnn-frontend headers for the cuDNN prefill attention backend (optional: without them
# it is a stub and the hand-written kernels run); libcudnn itself is loaded at run time.
CUDNN_HEADERS="$PWD/.cache/cudnn-headers"
if .venv/bin/python cmake/fetch_cudnn_headers.py --dest "$CUDNN_HEADERS" >/dev/null; then
  CMAKE_ARGS+=("-Ccmake.define.TRTPLUG_CUDNN_INCLUDE_DIRS=${CUDNN_HEADERS}/include")
else
  echo "trtplug: cuDNN headers could not be fetched; the cuDNN attention backend is built as a stub"
fi
if [ -n "${CUDAARCHS:-}" ]; then
  CMAKE_ARGS+=("-Ccmake.define.CMAKE_CUDA_ARCHITECTURES=${CUDAARCHS}")
fi

echo "trtplug: building and installing into .venv (CUDA compile takes a few minutes the first time)"
.venv/bin/python -m pip install -q -e ".[test]" "${CMAKE_ARGS[@]}"
echo "trtplug: installed; activate with: source .venv/bin/activate"
