"""GatedRMSNorm on a GPU beyond the parity cases: fp32/fp16/bf16, both activations, aligned and
unaligned buffers (the vector and scalar paths of the shared row kernel), groups from 1 to a
streamed 40000, through the binding and the IPluginV3 plugin (build and runtime phase, side
stream), rows past 2^31 elements, and bad shapes refused before any launch. Reference: float64
NumPy of the formula (test_parity.py ties it to ONNX Runtime's CPU kernel). Outputs poisoned."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import require_built
from tests.device_arrays import as_float64, host_values, offset_view, poisoned_view

pytestmark = pytest.mark.gpu
TOL = {"float32": 1e-4, "float16": 4e-3, "bfloat16": 3e-2}
PLUGIN = "TrtplugGatedRMSNorm"
# (X shape, scale shape): Qwen3.5's per-head form, one group, odd groups, rank 1, streamed rows.
SHAPES = [
    ((2, 5, 128), (32,)),
    ((4, 7, 4096), (128,)),
    ((3, 5, 21), (7,)),
    ((1, 1, 1), (1,)),
    ((24,), (6,)),
    ((2, 3, 16), (1, 8)),
    ((2, 40000), (20000,)),
]


def reference(x: np.ndarray, scale: np.ndarray, gate: np.ndarray, activation: str, eps: float) -> np.ndarray:
    group = scale.size
    rows = x.astype(np.float64).reshape(-1, group)
    inv = 1 / np.sqrt((rows * rows).mean(axis=1, keepdims=True) + eps)
    z = gate.astype(np.float64).reshape(-1, group)
    sig = 1 / (1 + np.exp(-z))
    act = sig if activation == "sigmoid" else z * sig
    return (rows * inv * scale.astype(np.float64).reshape(-1) * act).reshape(x.shape)


def make_case(shape, scale_shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = host_values(rng.standard_normal(shape) * 3 + 1, dtype)
    scale = host_values(rng.standard_normal(scale_shape), dtype)
    gate = host_values(rng.standard_normal(shape) * 2, dtype)
    return x, scale, gate


@pytest.fixture
def op(ext):
    require_built("the gated_rms_norm binding", hasattr(ext, "gated_rms_norm"), "trtplug._native predates it")
    return ext.gated_rms_norm


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("shape", "scale_shape"), SHAPES, ids=lambda v: "x".join(map(str, v)))
@pytest.mark.parametrize("activation", ["silu", "sigmoid"])
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
def test_binding(cp, op, dtype, shape, scale_shape, activation, offset, seed):
    x, scale, gate = make_case(shape, scale_shape, dtype, seed)
    _, y = poisoned_view(cp, shape, dtype, offset)
    ins = [offset_view(cp, a, offset) for a in (x, scale, gate)]
    op(ins, [y], {"activation": activation, "epsilon": 1e-6})
    cp.cuda.get_current_stream().synchronize()
    want = reference(x, scale, gate, activation, 1e-6)
    np.testing.assert_allclose(as_float64(y), want, atol=TOL[dtype], rtol=TOL[dtype])


def test_swish_is_silu(cp, op, seed):
    x, scale, gate = make_case((3, 64), (16,), "float32", seed)
    outs = []
    for activation in ("silu", "swish"):
        _, y = poisoned_view(cp, x.shape, "float32")
        op([cp.asarray(x), cp.asarray(scale), cp.asarray(gate)], [y], {"activation": activation})
        outs.append(y.get())
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, dtype, phase, seed):
    x, scale, gate = make_case((2, 3, 512), (128,), dtype, seed)
    plugin = library.create(PLUGIN, "1", "trtplug", {"activation": "silu", "epsilon": 1e-6})
    require_built(PLUGIN, plugin is not None, "the plugin library predates it")
    plugin = plugin if phase == "build" else plugin.round_trip()
    _, y = poisoned_view(cp, x.shape, dtype)
    stream = cp.cuda.Stream(non_blocking=True)  # the plugin must use the stream it is given
    ins = [offset_view(cp, a) for a in (x, scale, gate)]
    cp.cuda.get_current_stream().synchronize()
    plugin.run(ins, [y], stream, synchronize=False)
    stream.synchronize()
    np.testing.assert_allclose(as_float64(y), reference(x, scale, gate, "silu", 1e-6), atol=TOL[dtype], rtol=TOL[dtype])


def test_large_rows_past_2_31_elements(cp, op):
    """(2^31 / 4096 + 3) rows of 4096 fp16 in groups of 128: offsets past INT32_MAX elements."""
    cols = 4096
    rows = (1 << 31) // cols + 3
    free, _ = cp.cuda.runtime.memGetInfo()
    if free < 12 * rows * cols + (1 << 30):  # X, gate and Y in fp16, and a float32 draw
        pytest.skip(f"needs ~{12 * rows * cols >> 30} GiB of free GPU memory")
    rng = cp.random.default_rng(5)
    x = rng.standard_normal((rows, cols), dtype=cp.float32).astype(cp.float16)
    gate = rng.standard_normal((rows, cols), dtype=cp.float32).astype(cp.float16)
    scale = cp.linspace(-2, 2, 128, dtype=cp.float16)
    y = cp.full((rows, cols), cp.nan, cp.float16)
    op([x, scale, gate], [y], {"epsilon": 1e-5})
    cp.cuda.get_current_stream().synchronize()
    for part in (slice(0, 2), slice(rows - 5, rows)):
        want = reference(x[part].get(), scale.get(), gate[part].get(), "silu", 1e-5)
        np.testing.assert_allclose(y[part].get().astype(np.float64), want, atol=4e-3, rtol=4e-3)
    assert math.prod(y.shape) > 2**31


@pytest.mark.parametrize(
    ("x_shape", "scale_shape", "gate_shape", "attrs", "message"),
    [
        ((4, 6), (4,), (4, 6), {}, "must be a multiple of the scale length"),
        ((4, 8), (4,), (1, 8), {}, "gate must have the same shape as X"),
        ((4, 8), (0,), (4, 8), {}, "scale must not be empty"),
        ((4, 8), (4,), (4, 8), {"activation": "relu"}, "attribute 'activation'"),
    ],
)
def test_bad_arguments_are_errors_not_launches(cp, op, x_shape, scale_shape, gate_shape, attrs, message):
    y = cp.full(x_shape, cp.nan, cp.float32)
    ins = [cp.zeros(x_shape, cp.float32), cp.zeros(scale_shape, cp.float32), cp.zeros(gate_shape, cp.float32)]
    with pytest.raises(ValueError, match=message):
        op(ins, [y], attrs)
    assert bool(cp.isnan(y).all())  # nothing was launched
