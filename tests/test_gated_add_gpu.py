"""GatedAdd on a GPU beyond the parity cases: the binding, the IPluginV3 plugin (build and runtime
phase, side stream) and the CuPy prototype, each bit for bit against the NumPy prototype (which
tests/test_gated_add.py ties to ONNX Runtime bit for bit): fp32, fp16 and bf16, widths C that take
the 16-byte vector path and ones that do not (odd C, C = 1, C a multiple of 4 but not 8), unaligned
buffers, one element, empty tensors, poisoned outputs, a tensor past 2^31 elements (the runner's
chunks, the gate pointer advanced per chunk), and bad shapes refused before any launch."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import gated_add as proto
from tests.conftest import require_built
from tests.device_arrays import FLOAT_DTYPES, host_values, offset_view, poisoned_view, untouched
from trtplug.protolib.dtypes import Bf16Device, numpy_dtype

pytestmark = pytest.mark.gpu
PLUGIN = "TrtplugGatedAdd"
SHAPES = [(2, 5, 2048), (1, 1, 2048), (9, 32), (5, 12), (3, 7, 5), (6, 1), (1,), (2, 0, 8), (4, 1024, 48)]


def make_case(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x, y = (host_values(rng.standard_normal(shape) * 4, dtype) for _ in range(2))
    gate = host_values(rng.standard_normal((*shape[:-1], 1)) * 3, dtype)
    return x, y, gate


def expected(x, y, gate) -> np.ndarray:
    """The NumPy prototype's output, in the run's dtype."""
    out = np.full(x.shape, np.nan, x.dtype)
    proto.forward(np, [x, y, gate], [out], {})
    return out


def assert_bits_equal(device_out, want: np.ndarray) -> None:
    got = device_out.to_host() if isinstance(device_out, Bf16Device) else device_out.get()
    assert got.dtype == want.dtype and got.shape == want.shape
    bits = np.uint16 if want.itemsize == 2 else np.uint32
    np.testing.assert_array_equal(got.view(bits), want.view(bits))


@pytest.fixture
def op(ext):
    require_built("the gated_add binding", hasattr(ext, "gated_add"), "trtplug._native predates it")
    return ext.gated_add


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
def test_binding(cp, op, dtype, shape, offset, seed):
    x, y, gate = make_case(shape, dtype, seed)
    buffer, out = poisoned_view(cp, shape, dtype, offset)
    op([offset_view(cp, a, offset) for a in (x, y, gate)], [out])
    cp.cuda.get_current_stream().synchronize()
    assert_bits_equal(out, expected(x, y, gate))
    assert offset == 0 or untouched(buffer)  # nothing written before the view


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cupy_prototype(cp, dtype, shape, seed):
    x, y, gate = make_case(shape, dtype, seed)
    _, out = poisoned_view(cp, shape, dtype)
    proto.forward(cp, [offset_view(cp, a) for a in (x, y, gate)], [out], {})
    cp.cuda.get_current_stream().synchronize()
    assert_bits_equal(out, expected(x, y, gate))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("shape", [(2, 9, 2048), (3, 7, 5), (2, 0, 8)], ids=lambda s: "x".join(map(str, s)))
def test_plugin(cp, library, dtype, phase, shape, seed):
    x, y, gate = make_case(shape, dtype, seed)
    plugin = library.create(PLUGIN, "1", "trtplug", {})
    require_built(PLUGIN, plugin is not None, "the plugin library predates it")
    plugin = plugin if phase == "build" else plugin.round_trip()
    _, out = poisoned_view(cp, shape, dtype)
    stream = cp.cuda.Stream(non_blocking=True)
    ins = [offset_view(cp, a) for a in (x, y, gate)]
    cp.cuda.get_current_stream().synchronize()
    plugin.run(ins, [out], stream, synchronize=False)
    stream.synchronize()
    assert_bits_equal(out, expected(x, y, gate))


def test_past_2_31_elements(cp, op):
    """2^31 + ~6000 fp16 elements in rows of an odd C (the scalar path: 2^31 groups, so the runner
    splits into chunks, each starting at a row, and advances the gate pointer by the chunk's rows)."""
    cols = 2047
    rows = (1 << 31) // cols + 3
    free, _ = cp.cuda.runtime.memGetInfo()
    if free < 24 << 30:
        pytest.skip("needs ~24 GiB of free GPU memory (fp16 X, Y, output and a float32 draw)")
    rng = cp.random.default_rng(5)
    x = rng.standard_normal((rows, cols), dtype=cp.float32).astype(cp.float16)
    y = rng.standard_normal((rows, cols), dtype=cp.float32).astype(cp.float16)
    gate = (cp.arange(rows, dtype=cp.float32).reshape(rows, 1) % 7 - 3).astype(cp.float16)  # a wrong row shows
    out = cp.full(x.shape, cp.nan, cp.float16)
    op([x, y, gate], [out])
    cp.cuda.get_current_stream().synchronize()
    boundary = (2**31 - 1) // cols  # the first chunk's rows
    for part in (slice(0, 2), slice(boundary - 2, boundary + 2), slice(rows - 2, rows)):
        want = expected(x[part].get(), y[part].get(), gate[part].get())
        np.testing.assert_array_equal(out[part].get().view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([(4, 8), (4, 6), (4, 1)], "Y must have the same shape as X (X [4, 8], Y [4, 6])"),
        ([(4, 8), (4, 8), (4, 8)], "gate last dimension must be 1, got 8"),
        ([(2, 4, 8), (2, 4, 8), (2, 1, 1)], "gate dimension 1 must match X (X [2, 4, 8], gate [2, 1, 1])"),
        ([(4, 8), (4, 8), (4,)], "gate must have the same rank as X (X [4, 8], gate [4])"),
        ([(4, 0), (4, 0), (4, 1)], "X last dimension must be positive, got 0"),
    ],
    ids=["y_shape", "gate_last_dim", "gate_dim", "gate_rank", "c_0"],
)
def test_bad_shapes_are_errors_not_launches(cp, op, shapes, message):
    out = cp.full(shapes[0], cp.nan, cp.float32)
    with pytest.raises(ValueError, match="gated_add") as err:
        op([cp.zeros(s, cp.float32) for s in shapes], [out])
    assert message in str(err.value)
    assert bool(cp.isnan(out).all())


@pytest.mark.parametrize(
    ("dtypes", "message"),
    [
        (["int32", "int32", "int32", "int32"], "X must be float32, float16 or bfloat16, got int32"),
        (["float32", "float16", "float32", "float32"], "Y and gate must have X's dtype"),
        (["float16", "float16", "float32", "float16"], "Y and gate must have X's dtype"),
        (["float32", "float32", "float32", "float16"], "output must have X's dtype and shape"),
    ],
)
def test_bad_dtypes_are_errors_not_launches(cp, op, dtypes, message):
    ins = [cp.zeros(s, numpy_dtype(d)) for s, d in zip([(4, 8), (4, 8), (4, 1)], dtypes, strict=False)]
    out = cp.zeros((4, 8), numpy_dtype(dtypes[3]))
    with pytest.raises(ValueError, match="gated_add") as err:
        op(ins, [out])
    assert message in str(err.value)
