"""CumSum / CumProd on a GPU beyond the parity cases: every kernel path (warp per row along the
last axis, thread per column, columns split over a block's warps) and their boundaries, every
axis, exclusive and reverse, int32 and int64 axis tensors, integer wraparound, an out-of-range
axis, through the binding and through the IPluginV3 plugins (build and runtime phase, on a side
stream). Results are compared with the parity reference (onnx.reference) at the spec's
tolerances; outputs are poisoned first."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.device_arrays import plugin_executor
from trtplug import native
from trtplug.parity.cases import Case, make_inputs
from trtplug.parity.reference import run_reference
from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, to_bfloat16, to_device, to_host
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

OPS = ["cum_sum", "cum_prod"]
VARIANTS = [(0, 0), (1, 0), (0, 1), (1, 1)]  # (exclusive, reverse)
# (shape, axis) for each kernel path and its boundaries: rows (last axis, length >= 128: tiles of
# 256), plain columns (short lengths, or 65536 columns and more) and segmented columns (fewer
# columns of length >= 64, split over 8 warps); empty and one-element tensors.
GEOMETRIES = [
    ((1,), 0),
    ((7,), 0),
    ((5, 63), 1),  # short rows: plain columns
    ((5, 127), 1),  # segmented (few rows below the row path's minimum)
    ((5, 128), -1),  # rows from here on
    ((3, 257), 1),
    ((3, 1025), -1),
    ((2, 100000), 1),
    ((100000,), 0),
    ((3, 5, 17), 0),  # plain columns
    ((3, 5, 17), 1),
    ((2, 1025, 3), -2),  # segmented: 6 columns, segments of 129
    ((100000, 2), 0),  # segmented: segments of 12500
    ((1000, 70), 0),  # segmented, a partial group of 32 columns
    ((2, 70, 33000), 1),  # plain columns: 66000 of them
    ((2, 3, 4, 5, 6), 3),
    ((0, 16), 1),
    ((3, 0, 5), 1),
]
POISON = {"float32": np.nan, "float16": np.nan, "int32": -7, "int64": -7}


def geometry_id(g) -> str:
    # "large" lets scripts/gpu_test.sh leave the multi-million-element cases out of its memcheck pass.
    size = "large-" if math.prod(g[0]) > 1 << 20 else ""
    return size + "x".join(map(str, g[0])) + f"-axis{g[1]}"


def run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, execute, axis_dtype="int32") -> None:
    spec = load_registry().get(op)
    case = Case("gpu", {"x": shape, "axis": ()}, {"exclusive": exclusive, "reverse": reverse}, values={"axis": (axis,)})
    inputs = make_inputs(spec, case, seed)
    x = to_bfloat16(inputs["x"]) if dtype == BFLOAT16 else inputs["x"].astype(dtype)
    inputs = {"x": x, "axis": np.array(axis, axis_dtype)}
    (expected,) = run_reference(spec, case, exact_inputs(inputs))
    y = Bf16Device.poisoned(cp, shape) if dtype == BFLOAT16 else cp.full(shape, POISON[dtype], dtype=dtype)
    execute(spec, [to_device(cp, inputs["x"]), cp.asarray(inputs["axis"])], [y], case.attrs)
    tol = spec.tolerance(dtype)
    atol = tol.atol + accumulation_bound(op, inputs["x"])
    np.testing.assert_allclose(to_host(cp, y).astype(np.float64), expected, atol=atol, rtol=tol.rtol)


def exact_inputs(inputs: dict) -> dict:
    """float32 scans are checked against the float64 scan of the same values: a float32 sequential
    reference carries its own rounding error (~6e-3 after 10**6 terms), as large as the tolerance."""
    x = inputs["x"]
    return {**inputs, "x": x.astype(np.float64)} if x.dtype == np.float32 else inputs


def accumulation_bound(op: str, x: np.ndarray) -> float:
    """What float32 accumulation may add to a long running sum in any summation order: one unit
    roundoff per term's magnitude, eps * sum|x| (a dropped or repeated term still exceeds it)."""
    if op != "cum_sum" or (x.dtype.kind != "f" and x.dtype != BFLOAT16) or x.size == 0:
        return 0.0
    return float(np.finfo(np.float32).eps * np.abs(x.astype(np.float64)).sum())


def binding(cp, ext):
    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())
        cp.cuda.get_current_stream().synchronize()

    return execute


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int32", "int64"])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_binding(cp, ext, op, geometry, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, binding(cp, ext))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_int64_axis_tensor(cp, ext, op, axis, seed) -> None:
    run_case(cp, op, (4, 6, 300), axis, "float32", 0, 0, seed, binding(cp, ext), axis_dtype="int64")


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("length", [6, 300], ids=["column-path", "row-path"])
def test_integer_overflow_wraps_around(cp, ext, op, dtype, length) -> None:
    """Values near the type's limits: the sums and products wrap as NumPy's (ONNX's definition)."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(length)
    x = rng.integers(info.max // 4, info.max, (3, length), dtype=dtype) * rng.choice(
        np.array([-1, 1], dtype), (3, length)
    )
    axis = cp.asarray(np.array(1, np.int32))
    y = cp.full(x.shape, -7, dtype=dtype)
    getattr(ext, op)([cp.asarray(x), axis], [y], {})
    with np.errstate(over="ignore"):
        expected = (np.cumprod if op == "cum_prod" else np.cumsum)(x, axis=1, dtype=dtype)
    np.testing.assert_array_equal(cp.asnumpy(y), expected)


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "int64"])
@pytest.mark.parametrize("axis", [2, -3, 100])
def test_out_of_range_axis_poisons_the_output(cp, ext, dtype, axis) -> None:
    """The kernel cannot raise: it marks every element (NaN, or the integer minimum)."""
    x = cp.ones((4, 300), dtype=dtype)
    y = cp.zeros((4, 300), dtype=dtype)
    ext.cum_sum([x, cp.asarray(np.array(axis, np.int64))], [y], {})
    cp.cuda.get_current_stream().synchronize()
    marked = cp.isnan(y) if dtype.startswith("float") else y == np.iinfo(dtype).min
    assert bool(marked.all())


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("axis_vector", "cum_sum: axis must be a 0-D int32 or int64 tensor"),
        ("axis_float", "cum_sum: axis must be a 0-D int32 or int64 tensor"),
        ("y_shape", "cum_sum: y must have x's dtype and shape"),
    ],
)
def test_binding_refuses_bad_arrays_before_launching(cp, ext, inputs, message) -> None:
    x = cp.ones((2, 3), dtype=cp.float32)
    axis = {"axis_vector": cp.zeros(2, cp.int32), "axis_float": cp.zeros((), cp.float32)}.get(
        inputs, cp.zeros((), cp.int32)
    )
    y = cp.full((2, 4) if inputs == "y_shape" else (2, 3), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match=message):
        ext.cum_sum([x, axis], [y], {})
    assert bool(cp.isnan(y).all())


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", [((3, 5, 17), 1), ((4, 1025), -1), ((7,), 0), ((0, 4), 1)], ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64"])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, op, geometry, dtype, phase, seed) -> None:
    """Through the plugin host: fields exclusive/reverse from the creator, axis a device input."""

    execute = plugin_executor(cp, library, phase)

    shape, axis = geometry
    for exclusive, reverse in VARIANTS:
        run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, execute)


@pytest.mark.parametrize("op", OPS)
def test_torch_equivalent_agrees(cp, op, seed) -> None:
    """The benchmark's torch side computes the same scan (so its timing compares like with like)."""
    torch = pytest.importorskip("torch")
    from trtplug.parity.impl_base import pyplugin_module

    prototype = pyplugin_module(load_registry().get(op))
    rng = np.random.default_rng(seed)
    x = (rng.choice([-1.0, 1.0], (3, 40, 5)) * rng.uniform(0.9, 1.1, (3, 40, 5))).astype(np.float32)
    for exclusive, reverse in VARIANTS:
        attrs = {"exclusive": exclusive, "reverse": reverse}
        expected = np.full(x.shape, np.nan, np.float32)
        prototype.forward(np, [x, np.array(1)], [expected], attrs)
        got = prototype.torch_equivalent(torch, [torch.as_tensor(x, device="cuda"), torch.tensor(1)], attrs)
        np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", [1, 0], ids=["rows", "columns"])
def test_large_past_2_31_elements(cp, ext, axis) -> None:
    """2**31 + 3072 int32 elements, scanned along the rows (warp per row) or down the columns
    (thread per column): x[r, c] = (r if axis == 1 else c) % 7 + 1, so y = (position along the
    axis + 1) * that factor, checked at both ends; an index wrapped at 2**31 reads another factor."""
    rows, width = (2**21 + 3, 1024) if axis == 1 else (1024, 2**21 + 3)
    free, _ = cp.cuda.runtime.memGetInfo()
    if free < 2 * 4 * rows * width + (1 << 30):
        pytest.skip(f"needs ~{8 * rows * width >> 30} GiB of free GPU memory")
    across = cp.arange(rows if axis == 1 else width, dtype=cp.int32) % 7 + 1
    x = cp.empty((rows, width), dtype=cp.int32)
    x[...] = across[:, None] if axis == 1 else across[None, :]
    y = cp.full((rows, width), -7, dtype=cp.int32)
    ext.cum_sum([x, cp.asarray(np.array(axis, np.int32))], [y], {})
    del x
    for window in (slice(0, 3), slice(-3, None)):
        if axis == 1:
            factor = cp.asnumpy(across[window])[:, None].astype(np.int64)
            expected = factor * np.arange(1, width + 1)[None, :]
            np.testing.assert_array_equal(cp.asnumpy(y[window]), expected)
        else:
            factor = cp.asnumpy(across[window])[None, :].astype(np.int64)
            expected = np.arange(1, rows + 1)[:, None] * factor
            np.testing.assert_array_equal(cp.asnumpy(y[:, window]), expected)
