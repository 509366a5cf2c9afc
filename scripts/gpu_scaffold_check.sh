#!/usr/bin/env bash
# GPU check of what `trtplug new` generates, on a CUDA machine without network (like
# scripts/gpu_test.sh): scaffolds elementwise ops (and a TODO op) into THIS checkout, builds it,
# runs their CUDA kernels, bindings and IPluginV3 plugins against the references, checks binary
# broadcasting on the GPU, then builds a plugin project and runs its parity. Modifies the
# checkout (plugins/, pyplugins/): run it on a throwaway copy. Needs CuPy, onnx, onnxruntime,
# pybind11, scikit-build-core and jinja2 (PYTHONPATH may point at a folder holding jinja2 and
# markupsafe); TensorRT headers in .cache/tensorrt-headers. Logs go to $OUT (or reports/).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-reports}
mkdir -p "$OUT"
nvidia-smi -L
$PY -c "import cupy, onnx, onnxruntime, pybind11, scikit_build_core, jinja2; print('deps ok', cupy.__version__)" || exit 3
OPS="relu:Relu leaky_relu:LeakyRelu selu:Selu sigmoid:Sigmoid softsign:Softsign hard_swish:HardSwish round:Round sign:Sign celu:Celu add:Add mul:Mul prelu:PRelu mish:Mish hardmax:Hardmax"
for pair in $OPS; do
  PYTHONPATH=$PWD:${PYTHONPATH:-} $PY -m trtplug new ${pair%%:*} --from ai.onnx::${pair##*:} > /dev/null || exit 4
done
ARGS=("-Ccmake.define.CMAKE_CUDA_ARCHITECTURES=90-real" "-Ccmake.define.TensorRT_INCLUDE_DIR=$PWD/.cache/tensorrt-headers")
$PY -m pip install --no-build-isolation --no-deps -q -e . "${ARGS[@]}" > $OUT/build.log 2>&1 || { tail -40 $OUT/build.log; exit 2; }
export PYTHONSAFEPATH=1
KEYS=""; for pair in $OPS; do KEYS="$KEYS --op ${pair%%:*}"; done
$PY -m trtplug parity $KEYS --op fast_gelu --seed 7 > $OUT/parity.txt 2>&1
echo "parity rc=$?"; tail -1 $OUT/parity.txt; grep -v -E " PASS " $OUT/parity.txt | grep -v hardmax | head -20
grep hardmax $OUT/parity.txt | awk '{print $2, $5}' | sort | uniq -c
$PY - <<'PYEOF'
import cupy as cp, numpy as np
from trtplug import native
m = native.native_module()
rng = np.random.default_rng(3)
for sa, sb in [((3, 1, 5), (4, 1)), ((2, 3, 4), (4,)), ((1,), (2, 3)), ((5, 1, 1, 7), (1, 6, 1)), ((0, 3), (3,))]:
    for dt in (np.float32, np.float16):
        a = rng.standard_normal(sa).astype(dt); b = rng.standard_normal(sb).astype(dt)
        c = cp.full(np.broadcast_shapes(sa, sb), cp.nan, dtype=dt)
        m.add([cp.asarray(a), cp.asarray(b)], [c]); m.mul([cp.asarray(a), cp.asarray(b)], [c2 := cp.full_like(c, cp.nan)])
        ok = np.allclose(c.get().astype(np.float32), a.astype(np.float32) + b.astype(np.float32), atol=2e-3, rtol=2e-3)
        ok2 = np.allclose(c2.get().astype(np.float32), a.astype(np.float32) * b.astype(np.float32), atol=2e-3, rtol=2e-3)
        print("broadcast", sa, sb, np.dtype(dt).name, "add ok" if ok else "ADD BAD", "mul ok" if ok2 else "MUL BAD")
x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32); s = rng.standard_normal((3, 1, 1)).astype(np.float32)
y = cp.full(x.shape, cp.nan, dtype=np.float32); m.prelu([cp.asarray(x), cp.asarray(s)], [y])
print("prelu unidirectional", np.allclose(y.get(), np.where(x < 0, s * x, x)))
PYEOF
# A plugin project on the GPU: its kernels through <package>._native, its plugins through lib<package>_plugins.so.
$PY -m trtplug new softplus --from ai.onnx::Softplus --project /tmp/gpuops > /dev/null || exit 5
$PY -m pip install --no-build-isolation --no-deps -q --target /tmp/site /tmp/gpuops "${ARGS[@]}" > $OUT/project.log 2>&1 || { tail -30 $OUT/project.log; exit 6; }
PYTHONPATH=/tmp/site:${PYTHONPATH:-} $PY -m trtplug parity --op softplus --seed 7 > $OUT/project-parity.txt 2>&1
echo "project parity rc=$?"; tail -1 $OUT/project-parity.txt; grep -v " PASS " $OUT/project-parity.txt | head
