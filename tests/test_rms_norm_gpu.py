"""The RMS-norm family on a GPU beyond the parity cases: fp32/fp16/bf16, unaligned buffers (the
scalar path), rows too long for registers (streaming path), normalization over several axes,
scale with leading 1s, the inv_std_var output, every member through its binding and through its
IPluginV3 plugin (build and runtime phase, on a side stream), and rows past 2^31 elements.
Reference: float64 NumPy of the formula (the parity suite ties it to ONNX Runtime and
onnx.reference). Outputs are poisoned with NaN first."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import require_built
from tests.device_arrays import as_float64, host_values, offset_view, poisoned_view

pytestmark = pytest.mark.gpu
TOL = {"float32": 1e-4, "float16": 4e-3, "bfloat16": 2e-2}
PLUGINS = {"simplified_layer_norm": "TrtplugSimplifiedLayerNorm", "rms_normalization": "TrtplugRMSNormalization"}
# (X shape, axis, scale shape): edge widths, Qwen2/Llama hidden sizes, several axes, leading 1s.
SHAPES = [
    ((1, 1), -1, (1,)),
    ((3, 5, 7), -1, (7,)),
    ((37, 1001), -1, (1001,)),
    ((2, 9, 896), -1, (896,)),
    ((4, 4096), -1, (4096,)),
    ((3, 5, 6, 40), -2, (6, 40)),
    ((4, 3, 17), 0, (4, 3, 17)),
    ((2, 7, 64), -1, (1, 1, 64)),
    ((3, 40000), -1, (40000,)),
]


def reference(x: np.ndarray, scale: np.ndarray, axis: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    axes = tuple(range(axis % x.ndim, x.ndim))
    x64 = x.astype(np.float64)
    inv = 1 / np.sqrt((x64 * x64).mean(axis=axes, keepdims=True) + eps)
    y = x64 * inv * scale.astype(np.float64).reshape(x.shape[axis % x.ndim :])
    return y, inv


def poisoned(cp, shape, dtype: str, offset: int):
    return poisoned_view(cp, shape, dtype, offset)[1]


def check(outputs, expected, dtype: str) -> None:
    for i, (got, want) in enumerate(zip(outputs, expected, strict=False)):
        tol = TOL["float32"] if i == 1 else TOL[dtype]
        actual = as_float64(got)
        np.testing.assert_allclose(actual, want, atol=tol, rtol=tol, err_msg=f"output {i}")


def make_case(shape, axis, scale_shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = host_values(rng.standard_normal(shape) * 3 + 1, dtype)
    scale = host_values(rng.standard_normal(scale_shape), dtype)
    stats = tuple(d if i < axis % len(shape) else 1 for i, d in enumerate(shape))
    return x, scale, stats


@pytest.fixture
def members(ext):
    require_built("the rms_norm bindings", hasattr(ext, "simplified_layer_norm"), "trtplug._native predates them")
    return ext


@pytest.mark.parametrize("key", PLUGINS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(
    ("shape", "axis", "scale_shape"), SHAPES, ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else str(v)
)
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
def test_binding(cp, members, key, dtype, shape, axis, scale_shape, offset, seed):
    x, scale, stats = make_case(shape, axis, scale_shape, dtype, seed)
    outs = [poisoned(cp, shape, dtype, offset)]
    attrs = {"axis": axis, "epsilon": 1e-5}
    if key == "simplified_layer_norm":
        outs.append(offset_view(cp, np.full(stats, np.nan, np.float32), offset))
        attrs["num_outputs"] = 2
    getattr(members, key)([offset_view(cp, x, offset), offset_view(cp, scale, offset)], outs, attrs)
    cp.cuda.get_current_stream().synchronize()
    check(outs, reference(x, scale, axis, 1e-5), dtype)


@pytest.mark.parametrize("key", PLUGINS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, key, dtype, count, phase, seed):
    if key == "rms_normalization" and count == 2:
        pytest.skip("RMSNormalization has one output")
    x, scale, stats = make_case((2, 3, 8, 128), -2, (8, 128), dtype, seed)
    fields = {"axis": -2, "epsilon": 1e-6, "stash_type": 1} | ({"num_outputs": count} if count > 1 else {})
    plugin = library.create(PLUGINS[key], "1", "trtplug", fields)
    require_built(PLUGINS[key], plugin is not None, "the plugin library predates it")
    plugin = plugin if phase == "build" else plugin.round_trip()
    outs = [poisoned(cp, x.shape, dtype, 0)]
    if count == 2:
        outs.append(cp.full(stats, cp.nan, cp.float32))
    stream = cp.cuda.Stream(non_blocking=True)  # a side stream: the plugin must use the one it is given
    ins = [offset_view(cp, x, 0), offset_view(cp, scale, 0)]
    cp.cuda.get_current_stream().synchronize()
    plugin.run(ins, outs, stream, synchronize=False)
    stream.synchronize()
    check(outs, reference(x, scale, -2, 1e-6), dtype)


def test_large_rows_past_2_31_elements(cp, members):
    """(2^31 / 4096 + 3) rows of 4096 fp16: row offsets past INT32_MAX elements; the last rows
    and the first are checked ("large": left out of the memcheck pass)."""
    cols = 4096
    rows = (1 << 31) // cols + 3
    free, _ = cp.cuda.runtime.memGetInfo()
    if free < 8 * rows * cols + (1 << 30):  # X and Y in fp16, and X's float32 draw
        pytest.skip(f"needs ~{8 * rows * cols >> 30} GiB of free GPU memory")
    x = cp.random.default_rng(5).standard_normal((rows, cols), dtype=cp.float32).astype(cp.float16)
    scale = cp.linspace(-2, 2, cols, dtype=cp.float16)
    y = cp.full((rows, cols), cp.nan, cp.float16)
    members.rms_normalization([x, scale], [y], {"axis": -1, "epsilon": 1e-5})
    cp.cuda.get_current_stream().synchronize()
    for part in (slice(0, 2), slice(rows - 5, rows)):
        want, _ = reference(x[part].get(), scale.get(), -1, 1e-5)
        np.testing.assert_allclose(y[part].get().astype(np.float64), want, atol=4e-3, rtol=4e-3)
    assert math.prod(y.shape) > 2**31


@pytest.mark.parametrize(
    ("scale_shape", "attrs", "inv_shape", "message"),
    [
        ((7,), {"axis": -1}, None, "scale must have X's dtype and X.shape[axis:]"),
        ((8,), {"axis": -2}, None, "scale must have X's dtype and X.shape[axis:]"),
        ((8,), {"axis": 2}, None, "axis 2 is out of range for X of rank 2"),
        ((8,), {"axis": -1, "num_outputs": 2}, (4, 8), "inv_std_var must be float32 with X's shape"),
        ((8,), {"axis": -1, "stash_type": 0}, None, "attribute 'stash_type'"),
    ],
)
def test_bad_arguments_are_errors_not_launches(cp, members, scale_shape, attrs, inv_shape, message):
    x = cp.zeros((4, 8), cp.float32)
    y = cp.full((4, 8), cp.nan, cp.float32)
    outs = [y] if inv_shape is None else [y, cp.zeros(inv_shape, cp.float32)]
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        members.simplified_layer_norm([x, cp.zeros(scale_shape, cp.float32)], outs, attrs)
    assert bool(cp.isnan(y).all())  # nothing was launched


# Rows of 1-16 vectors (the sub-warp teams' widths) in each dtype, aligned and scalar, with row
# counts that leave teams of the last block idle.
SHORT_ROWS = [
    ((37, 64), -1, (64,)),
    ((9, 128), -1, (128,)),
    ((5, 3, 32), -1, (32,)),
    ((11, 24), -1, (24,)),
    ((3, 7), -1, (7,)),
]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(
    ("shape", "axis", "scale_shape"),
    SHORT_ROWS,
    ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
def test_subwarp_teams_equal_warp_teams(cp, members, monkeypatch, dtype, shape, axis, scale_shape, offset, seed):
    """The sub-warp teams (8 or 16 lanes for short rows, the default) write the warp teams' outputs
    (TRTPLUG_ROW_NORM_TEAMS=warp, read per launch) bit for bit, and both match the float64 reference."""
    x, scale, stats = make_case(shape, axis, scale_shape, dtype, seed)
    runs = []
    for teams in ("warp", "subwarp"):
        monkeypatch.setenv("TRTPLUG_ROW_NORM_TEAMS", teams)
        outs = [poisoned(cp, shape, dtype, offset), offset_view(cp, np.full(stats, np.nan, np.float32), offset)]
        attrs = {"axis": axis, "epsilon": 1e-5, "num_outputs": 2}
        members.simplified_layer_norm([offset_view(cp, x, offset), offset_view(cp, scale, offset)], outs, attrs)
        cp.cuda.get_current_stream().synchronize()
        check(outs, reference(x, scale, axis, 1e-5), dtype)
        runs.append([as_float64(o) for o in outs])
    for warp, subwarp in zip(*runs, strict=True):
        np.testing.assert_array_equal(subwarp, warp)
