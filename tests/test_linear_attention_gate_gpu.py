"""LinearAttentionGate on a GPU beyond the parity cases: fp32/fp16/bf16, head counts that take the
16-byte vector path and ones that do not, unaligned buffers, decay alone (with and without b),
softplus tails, the plugin through the plugin host (build and runtime phase, side stream), a
tensor past 2^31 elements (the runner's chunks), and bad shapes refused before any launch.
Reference: float64 NumPy of the formula (test_linear_attention_gate.py ties it to ONNX Runtime)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_built
from tests.device_arrays import as_float64, host_values, offset_view, poisoned_view

pytestmark = pytest.mark.gpu
TOL = {"float32": 1e-5, "float16": 4e-3, "bfloat16": 3e-2}
PLUGIN = "TrtplugLinearAttentionGate"
SHAPES = [(2, 5, 4), (3, 7, 5), (9, 32), (1,), (4, 1024, 48), (2, 0, 8)]


def reference(a, dt_bias, decay_scale, b):
    v = a.astype(np.float64) + dt_bias.astype(np.float64)
    decay = decay_scale.astype(np.float64) * (np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v))))
    return decay, 1 / (1 + np.exp(-b.astype(np.float64)))


def make_case(shape, dtype, seed, spread=2.0):
    rng = np.random.default_rng(seed)
    heads = shape[-1]
    a = host_values(rng.standard_normal(shape) * spread, dtype)
    b = host_values(rng.standard_normal(shape) * spread, dtype)
    dt = rng.standard_normal(heads).astype(np.float32)
    scale = (-np.exp(rng.standard_normal(heads))).astype(np.float32)
    return a, dt, scale, b


@pytest.fixture
def op(ext):
    require_built(
        "the linear_attention_gate binding", hasattr(ext, "linear_attention_gate"), "trtplug._native predates it"
    )
    return ext.linear_attention_gate


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
@pytest.mark.parametrize("count", [1, 2])
def test_binding(cp, op, dtype, shape, offset, count, seed):
    a, dt, scale, b = make_case(shape, dtype, seed)
    outs = [poisoned_view(cp, shape, dtype, offset)[1] for _ in range(count)]
    ins = [offset_view(cp, a, offset), cp.asarray(dt), cp.asarray(scale), offset_view(cp, b, offset)]
    op(ins, outs, {"num_outputs": count})
    cp.cuda.get_current_stream().synchronize()
    for got, want in zip(outs, reference(a, dt, scale, b), strict=False):
        np.testing.assert_allclose(as_float64(got), want, atol=TOL[dtype], rtol=TOL[dtype])


def test_decay_without_b(cp, op, seed):
    a, dt, scale, b = make_case((3, 64), "float32", seed)
    decay = cp.full(a.shape, cp.nan, cp.float32)
    op([cp.asarray(a), cp.asarray(dt), cp.asarray(scale)], [decay], {"num_outputs": 1})
    np.testing.assert_allclose(decay.get(), reference(a, dt, scale, b)[0], atol=1e-5, rtol=1e-5)


def test_softplus_and_sigmoid_tails(cp, op):
    a = np.array([[-100, -30, -10, -1e-3, 0, 1e-3, 10, 30, 100, 88, -88, 20]], np.float32)
    dt, scale = np.zeros(a.shape[-1], np.float32), np.ones(a.shape[-1], np.float32)
    outs = [cp.full(a.shape, cp.nan, cp.float32) for _ in range(2)]
    op([cp.asarray(a), cp.asarray(dt), cp.asarray(scale), cp.asarray(a)], outs, {"num_outputs": 2})
    for got, want in zip(outs, reference(a, dt, scale, a), strict=True):
        np.testing.assert_allclose(got.get(), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, dtype, phase, seed):
    a, dt, scale, b = make_case((2, 9, 32), dtype, seed)
    plugin = library.create(PLUGIN, "1", "trtplug", {"num_outputs": 2})
    require_built(PLUGIN, plugin is not None, "the plugin library predates it")
    plugin = plugin if phase == "build" else plugin.round_trip()
    outs = [poisoned_view(cp, a.shape, dtype)[1] for _ in range(2)]
    stream = cp.cuda.Stream(non_blocking=True)
    ins = [offset_view(cp, a), cp.asarray(dt), cp.asarray(scale), offset_view(cp, b)]
    cp.cuda.get_current_stream().synchronize()
    plugin.run(ins, outs, stream, synchronize=False)
    stream.synchronize()
    for got, want in zip(outs, reference(a, dt, scale, b), strict=True):
        np.testing.assert_allclose(as_float64(got), want, atol=TOL[dtype], rtol=TOL[dtype])


def test_past_2_31_elements(cp, op):
    """2^31 + 96 fp16 elements in heads of 32: the runner splits into chunks at head 0."""
    heads, tokens = 32, (1 << 31) // 32 + 3
    free, _ = cp.cuda.runtime.memGetInfo()
    if free < 8 * heads * tokens + (1 << 30):
        pytest.skip("needs ~17 GiB of free GPU memory")
    a = cp.random.default_rng(3).standard_normal((tokens, heads), dtype=cp.float32).astype(cp.float16)
    dt, scale = cp.linspace(-1, 1, heads, dtype=cp.float32), -cp.linspace(0.5, 2, heads, dtype=cp.float32)
    decay = cp.full(a.shape, cp.nan, cp.float16)
    op([a, dt, scale], [decay], {"num_outputs": 1})
    cp.cuda.get_current_stream().synchronize()
    for part in (slice(0, 2), slice(tokens - 5, tokens)):
        want, _ = reference(a[part].get(), dt.get(), scale.get(), a[part].get())
        np.testing.assert_allclose(decay[part].get().astype(np.float64), want, atol=4e-3, rtol=2e-3)


@pytest.mark.parametrize(
    ("shapes", "count", "message"),
    [
        ([(4, 8), (4,), (8,), (4, 8)], 2, "dt_bias must have 8 elements"),
        ([(4, 8), (8,), (8,), (1, 8)], 2, "b must have the same shape as a"),
        ([(4, 8), (8,), (8,)], 2, "b input is required"),
    ],
)
def test_bad_arguments_are_errors_not_launches(cp, op, shapes, count, message):
    outs = [cp.full(shapes[0], cp.nan, cp.float32) for _ in range(count)]
    with pytest.raises(ValueError, match=message):
        op([cp.zeros(s, cp.float32) for s in shapes], outs, {"num_outputs": count})
    assert bool(cp.isnan(outs[0]).all())
