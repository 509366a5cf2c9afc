#!/usr/bin/env bash
# GPU suite on a CUDA machine with no network (e.g. the lent H100). Uses the machine's Python,
# which must already hold CuPy, onnx, onnxruntime, pybind11, scikit-build-core and pytest;
# builds for sm_90 (override with CUDAARCHS) against TensorRT headers from $TensorRT_ROOT or a
# .cache/tensorrt-headers folder carried from a machine that ran scripts/setup.sh.
# Writes logs to $OUT (or reports/). Exit status: that of the pytest run.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTDIR=${OUT:-reports}
mkdir -p "$OUTDIR"
ARGS=("-Ccmake.define.CMAKE_CUDA_ARCHITECTURES=${CUDAARCHS:-90}")
if [ -n "${TensorRT_ROOT:-}" ]; then
  ARGS+=("-Ccmake.define.TensorRT_ROOT=${TensorRT_ROOT}")
elif [ -f .cache/tensorrt-headers/NvInferRuntime.h ]; then
  ARGS+=("-Ccmake.define.TensorRT_INCLUDE_DIR=$PWD/.cache/tensorrt-headers")
fi
nvidia-smi -L || true
"$PY" -m pip install --no-build-isolation --no-deps -q -e . "${ARGS[@]}" >"$OUTDIR/gpu-build.log" 2>&1 \
  || { tail -40 "$OUTDIR/gpu-build.log"; exit 2; }
export PYTHONSAFEPATH=1 TRTPLUG_REQUIRE_NATIVE=1 PYTHONUNBUFFERED=1

"$PY" -m pytest -q -rs -p no:cacheprovider --junitxml "$OUTDIR/gpu-junit.xml" >"$OUTDIR/gpu-pytest.log" 2>&1
rc=$?
tail -5 "$OUTDIR/gpu-pytest.log"

echo "== compute-sanitizer memcheck over the CUDA launcher and plugin-host tests"
if command -v compute-sanitizer >/dev/null; then
  compute-sanitizer --tool memcheck --error-exitcode 99 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_native_gpu.py tests/test_plugin_host_gpu.py -k "not large" >"$OUTDIR/gpu-memcheck.log" 2>&1
  echo "memcheck exit: $? ($(grep -c 'Invalid' "$OUTDIR/gpu-memcheck.log") invalid accesses)"
  tail -3 "$OUTDIR/gpu-memcheck.log"
  # Standard ops (issue 8): their own GPU tests and the CUDA/plugin parity + conformance cases.
  compute-sanitizer --tool memcheck --error-exitcode 99 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_int_elementwise.py tests/test_matrix_ops.py tests/test_center_crop_pad.py tests/test_max_unpool.py \
    tests/test_scatter.py tests/test_max_pool_with_indices.py tests/test_parity.py tests/test_conformance.py \
    -k "not large and not cupy and not numpy \
    and not heavy and (bitwise or bit_shift or affine or det or inverse or center_crop or unpool or scatter \
    or max_pool or pool_then)" \
    >"$OUTDIR/gpu-memcheck-std.log" 2>&1
  echo "memcheck (standard ops) exit: $? ($(grep -c 'Invalid' "$OUTDIR/gpu-memcheck-std.log") invalid accesses)"
  tail -3 "$OUTDIR/gpu-memcheck-std.log"
fi

echo "== parity"
"$PY" -m trtplug parity --json >"$OUTDIR/gpu-parity.json"
"$PY" -m trtplug parity | tail -1
echo "== benchmark"
"$PY" benchmarks/bench_fast_gelu.py | tee "$OUTDIR/gpu-bench.txt"
"$PY" benchmarks/bench_std_ops.py | tee "$OUTDIR/gpu-bench-std.txt"
exit $rc
