#!/usr/bin/env bash
# GPU suite on a CUDA machine with no network (e.g. the lent H100). Uses the machine's Python,
# which must already hold CuPy, onnx, onnxruntime, pybind11, scikit-build-core and pytest;
# builds for sm_90 (override with CUDAARCHS) against TensorRT headers from $TensorRT_ROOT or a
# .cache/tensorrt-headers folder carried from a machine that ran scripts/setup.sh.
# Phases (GPU_PHASES, default all): test (pytest), memcheck (compute-sanitizer over the CUDA and
# plugin-host tests and their parity cases), parity (CLI report + the past-2**31 cases), bench.
# GPU_PYTEST_ARGS narrows the pytest phase (e.g. "tests/test_unique.py -k plugin"); it is split on
# spaces, so an argument with spaces goes in PYTEST_ADDOPTS instead (PYTEST_ADDOPTS='-m "not slow"').
# GPU_PYTEST_WORKERS=N runs pytest in N processes when pytest-xdist is importable (carried wheel).
# GPU_PYTEST_LIMIT=S interrupts pytest after S seconds (SIGINT), so that it still prints the
# failures so far and its summary line before a caller's own time limit cuts it off.
# GPU_PYTEST_DEADLINE=S does the same at S seconds after this script started (the build included).
# Wheels the machine's Python lacks travel in .whl/ (git-ignored) and are installed offline into
# $WHEEL_SITE, put on PYTHONPATH. ml_dtypes (NumPy's bfloat16) is required; fetch it on a networked
# machine with: python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12
#   --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl ml_dtypes
# Writes logs to $OUT (or reports/). Exit status: that of the pytest run (0 when it did not run).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTDIR=${OUT:-reports}
PHASES=${GPU_PHASES:-test memcheck parity bench}
mkdir -p "$OUTDIR"
ARGS=("-Ccmake.define.CMAKE_CUDA_ARCHITECTURES=${CUDAARCHS:-90}")
if [ -n "${TensorRT_ROOT:-}" ]; then
  ARGS+=("-Ccmake.define.TensorRT_ROOT=${TensorRT_ROOT}")
elif [ -f .cache/tensorrt-headers/NvInferRuntime.h ]; then
  ARGS+=("-Ccmake.define.TensorRT_INCLUDE_DIR=$PWD/.cache/tensorrt-headers")
fi
# The cuDNN prefill attention backend, from the .cache/cudnn-headers carried with the checkout
if [ -f .cache/cudnn-headers/include/cudnn_frontend.h ]; then
  ARGS+=("-Ccmake.define.TRTPLUG_CUDNN_INCLUDE_DIRS=$PWD/.cache/cudnn-headers/include")
fi
nvidia-smi -L || true
if compgen -G ".whl/*.whl" >/dev/null; then
  WHEEL_SITE=${WHEEL_SITE:-/tmp/trtplug-wheels}
  "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$WHEEL_SITE" .whl/*.whl \
    >"$OUTDIR/gpu-wheels.log" 2>&1 || { tail -20 "$OUTDIR/gpu-wheels.log"; exit 2; }
  export PYTHONPATH="$WHEEL_SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" -c "import ml_dtypes" || { echo "ml_dtypes is missing: carry its wheel in .whl/ (see above)"; exit 2; }
"$PY" -m pip install --no-build-isolation --no-deps -q -e . "${ARGS[@]}" >"$OUTDIR/gpu-build.log" 2>&1 \
  || { tail -40 "$OUTDIR/gpu-build.log"; exit 2; }
export PYTHONSAFEPATH=1 TRTPLUG_REQUIRE_NATIVE=1 PYTHONUNBUFFERED=1
rc=0

if [[ " $PHASES " == *" test "* ]]; then
  echo "== pytest"
  WORKERS=()
  if [ -n "${GPU_PYTEST_WORKERS:-}" ]; then
    if "$PY" -c "import xdist" 2>/dev/null; then
      WORKERS=(-n "$GPU_PYTEST_WORKERS")
    else
      echo "GPU_PYTEST_WORKERS ignored: pytest-xdist is not importable (one process)"
    fi
  fi
  LIMIT=()
  PYTEST_SECONDS=${GPU_PYTEST_LIMIT:-}
  [ -n "${GPU_PYTEST_DEADLINE:-}" ] && PYTEST_SECONDS=$((GPU_PYTEST_DEADLINE - SECONDS))
  [ -n "$PYTEST_SECONDS" ] && LIMIT=(timeout -s INT -k 60 "$PYTEST_SECONDS")
  "${LIMIT[@]}" "$PY" -m pytest -q -rs -p no:cacheprovider "${WORKERS[@]}" --junitxml "$OUTDIR/gpu-junit.xml" \
    ${GPU_PYTEST_ARGS:-} >"$OUTDIR/gpu-pytest.log" 2>&1
  rc=$?
  grep -E "^(FAILED|ERROR)" "$OUTDIR/gpu-pytest.log" | head -20
  # failures and errors as the progress lines show them: known even when the run was cut short
  echo "progress: $(grep -E '^[.FEsxX]+ +\[ *[0-9]+%\]$' "$OUTDIR/gpu-pytest.log" | tr -cd 'FE' | wc -c) F/E marks"
  tail -1 "$OUTDIR/gpu-pytest.log"
fi

if [[ " $PHASES " == *" memcheck "* ]] && command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck over the CUDA launcher, plugin-host and their parity tests"
  compute-sanitizer --tool memcheck --error-exitcode 99 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_native_gpu.py tests/test_plugin_host_gpu.py tests/test_gelu_family_gpu.py tests/test_norm_gpu.py \
    tests/test_rms_norm_gpu.py \
    tests/test_group_query_attention_gpu.py tests/test_attention_flash32_gpu.py \
    tests/test_parity.py -k "(not large and not huge) and (not test_parity or -cuda- or -plugin-)" \
    >"$OUTDIR/gpu-memcheck.log" 2>&1
  echo "memcheck exit: $? ($(grep -c 'Invalid' "$OUTDIR/gpu-memcheck.log") invalid accesses)"
  tail -2 "$OUTDIR/gpu-memcheck.log"
  # cuDNN's prefill with the workspace the core carves for it (query lengths, plan scratch).
  compute-sanitizer --tool memcheck --error-exitcode 99 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_attention_cudnn_gpu.py -k "not 4099" >"$OUTDIR/gpu-memcheck-cudnn.log" 2>&1
  echo "memcheck (cuDNN prefill) exit: $? ($(grep -c 'Invalid' "$OUTDIR/gpu-memcheck-cudnn.log") invalid accesses)"
  tail -2 "$OUTDIR/gpu-memcheck-cudnn.log"
  # The attention kernels share tiles through shared memory: racecheck them (small cases).
  compute-sanitizer --tool racecheck --error-exitcode 99 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_group_query_attention_gpu.py tests/test_attention_flash32_gpu.py tests/test_onnx_attention_gpu.py \
    tests/test_parity.py \
    -k "(not large and not 1031) and (not test_parity or (group_query_attention and -cuda-))" \
    >"$OUTDIR/gpu-racecheck-attention.log" 2>&1
  echo "racecheck (attention) exit: $? ($(grep -c 'hazard' "$OUTDIR/gpu-racecheck-attention.log") hazard lines)"
  tail -2 "$OUTDIR/gpu-racecheck-attention.log"
  # Standard ops: their own GPU tests and the CUDA/plugin parity + conformance cases.
  compute-sanitizer --tool memcheck --error-exitcode 99 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_int_elementwise.py tests/test_matrix_ops.py tests/test_center_crop_pad.py tests/test_max_unpool.py \
    tests/test_scatter.py tests/test_max_pool_with_indices.py tests/test_conformance.py tests/test_compress.py tests/test_col2im.py \
    tests/test_unique.py tests/test_cumulative_gpu.py tests/test_dft_gpu.py tests/test_stft_gpu.py \
    tests/test_gather_block_quantized_gpu.py tests/test_rotary_embedding_gpu.py \
    -k "not large and not cupy and not numpy and not heavy" >"$OUTDIR/gpu-memcheck-std.log" 2>&1
  echo "memcheck (standard ops) exit: $? ($(grep -c 'Invalid' "$OUTDIR/gpu-memcheck-std.log") invalid accesses)"
  tail -2 "$OUTDIR/gpu-memcheck-std.log"
fi

if [[ " $PHASES " == *" parity "* ]]; then
  echo "== parity (every op x impl x dtype x case; HTML report if matplotlib is here)"
  HTML=()
  "$PY" -c "import matplotlib" 2>/dev/null && HTML=(--html "$OUTDIR/gpu-parity.html")
  "$PY" -m trtplug parity --json "${HTML[@]}" >"$OUTDIR/gpu-parity.json"
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print('seed', d['seed'], d['counts'])" \
    "$OUTDIR/gpu-parity.json"
  echo "== parity past 2**31 elements (32-bit index overflow)"
  "$PY" -m trtplug parity --huge --case huge --impl cuda --impl plugin >"$OUTDIR/gpu-parity-huge.txt" 2>&1
  echo "huge exit: $?"
  grep -E "huge" "$OUTDIR/gpu-parity-huge.txt" | awk '{print $1, $2, $3, $5}' | sort | uniq -c | head -40
  tail -1 "$OUTDIR/gpu-parity-huge.txt"
fi

if [[ " $PHASES " == *" bench "* ]]; then
  echo "== benchmark (trtplug bench; the document is what docs/benchmarks/ commits)"
  "$PY" -m trtplug bench --sizes "${BENCH_SIZES:-64,256,1024}" --markdown "$OUTDIR/bench.md" \
    --plot "$OUTDIR/bench.png" | tee "$OUTDIR/gpu-bench.txt"
  # RMS norm against the issue's target (>= 90% of copy), fp16/bf16, Llama and Qwen2 hidden sizes.
  "$PY" benchmarks/bench_rms_norm.py | tee "$OUTDIR/gpu-bench-rms-norm.txt"
fi
exit $rc
