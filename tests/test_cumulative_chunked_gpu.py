"""CumSum / CumProd's chunked row path on a GPU (plugins/cumulative/chunked_row_scan.cuh): few long
rows scanned by a warp per chunk of 4 warp tiles (fp32/int32 1024 elements, fp16/bf16 2048, int64
512) over three launches whose chunk totals are parked in y; and the rows' 16-byte vector tiles in
every type (row_scan.cuh: a full tile of 32 bytes per lane starting on 16 bytes, in x and in y; the
stage otherwise). A 1-D x takes the chunked path only without a workspace (test_1d: the plugin as a
runtime-phase object, which the host gives none); through the binding it takes the one-pass scan
(tests/test_cumulative_lookback_gpu.py), as do this file's 1-D views, in-place and past-2**31 cases.
Boundaries: lengths around each type's warp tile, chunk and two-chunk minimum, a last chunk that
takes a remainder, the row count where the chunked path gives way to a warp per row, rows whose
starts alternate between aligned and not, views that start 1 or 8 elements into their buffer (x and
y alike or not), x and y the same array (the old segmented path) and integer wraparound. Compared
with the parity reference (onnx.reference) at the spec's tolerances, outputs poisoned first
(tests/test_cumulative_gpu.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.device_arrays import plugin_executor
from tests.test_cumulative_gpu import OPS, VARIANTS, binding, geometry_id, run_case
from trtplug.protolib.dtypes import Bf16Device

pytestmark = pytest.mark.gpu

DTYPES = ["float32", "float16", "bfloat16", "int32", "int64"]
# 1-D lengths: one element; +-1 around the warp tiles (int64 128, fp32/int32 256, fp16/bf16 512),
# the chunks (512, 1024, 2048) and the two-chunk minimums (1024, 2048, 4096); a last chunk holding
# a remainder just below a whole chunk (3071, 6143) and three whole chunks; 1M + 3 (the
# benchmark's 1-D case, a last chunk with a remainder).
LENGTHS_1D = [1, 7, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049]
LENGTHS_1D += [3071, 3072, 3073, 4095, 4096, 4097, 6143, 6144, 6145, (1 << 20) + 3]
# Rows along the last axis: a few rows of two chunks or more; a length-1 trailing axis (inner 1);
# 1000 rows of 4096 (4000 <= the 4224 blocks of 132 SMs: chunked) and 1100 (a warp per row).
ROWS = [
    ((3, 2048), 1),
    ((5, 3073), -1),
    ((2, 3, 5000), 2),
    ((4, 2049, 1), 1),
    ((1000, 4096), 1),
    ((1100, 4096), 1),
    ((6, 1028), 1),  # fp16 row starts alternate between 16-byte aligned and 8 bytes off
    ((5, 1031), 1),  # odd rows: most fp16 tiles start off 16 bytes, forwards and reversed
    ((16384, 4096), 1),  # the benchmark's fp16 last-axis case (128 MiB): whole aligned tiles
    ((7, 258), 1),  # fp32/int32: row starts alternate on and off 16 bytes, one full tile each
]


def length_id(length: int) -> str:
    return ("large-" if length > 1 << 20 else "") + f"n{length}"


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", LENGTHS_1D, ids=length_id)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_1d(cp, library, op, length, dtype, exclusive, reverse, seed) -> None:
    """The runtime-phase plugin: the host gives it no workspace (TensorRT would size it from the
    engine), so the 1-D x takes the chunked path, not the one-pass scan."""
    run_case(cp, op, (length,), 0, dtype, exclusive, reverse, seed, plugin_executor(cp, library, "runtime"))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", ROWS, ids=geometry_id)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_rows(cp, ext, op, geometry, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, binding(cp, ext))


def bits_of(array):
    return array.bits if isinstance(array, Bf16Device) else array


def shifted(cp, array, offset: int):
    """A copy of `array` in a view starting `offset` elements into a larger buffer."""
    bits = bits_of(array)
    view = cp.empty(bits.size + offset, dtype=bits.dtype)[offset:].reshape(bits.shape)
    view[...] = bits
    return Bf16Device(view) if isinstance(array, Bf16Device) else view


def shifted_binding(cp, ext, x_offset: int, y_offset: int):
    """x and y that many elements into their buffers (1: pointers only aligned to the element, the
    parked fp16/bf16 totals spanning two of them; 8: fp16 vector runs back on 16 bytes); y's
    poison travels with the copy, the result comes back into the test's y."""
    run = binding(cp, ext)

    def execute(spec, ins, outs, attrs):
        x, y = shifted(cp, ins[0], x_offset), shifted(cp, outs[0], y_offset)
        run(spec, [x, ins[1]], [y], attrs)
        bits_of(outs[0])[...] = bits_of(y)

    return execute


def in_place_binding(cp, ext):
    """y passed as x too: the chunked path (which parks totals in y) must step aside."""
    run = binding(cp, ext)

    def execute(spec, ins, outs, attrs):
        bits_of(outs[0])[...] = bits_of(ins[0])
        run(spec, [outs[0], ins[1]], outs, attrs)

    return execute


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    "geometry", [((2049,), 0), ((4099,), 0), ((3, 3073), 1), ((4, 1024), 1), ((300,), 0)], ids=geometry_id
)
@pytest.mark.parametrize("offsets", [(1, 1), (8, 8), (0, 1), (1, 0), (0, 8)], ids=lambda o: f"x{o[0]}-y{o[1]}")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_unaligned_views(cp, ext, op, geometry, offsets, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, shifted_binding(cp, ext, *offsets))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", [((100000,), 0), ((3, 5000), 1), ((5, 300), 1)], ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_in_place(cp, ext, op, geometry, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, in_place_binding(cp, ext))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("shape", [(3, 5000), (70001,)], ids=lambda s: "x".join(map(str, s)))
def test_integer_wraparound(cp, ext, op, dtype, shape) -> None:
    """Values near the type's limits: the chunk totals and prefixes wrap as NumPy's scan does."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(math.prod(shape))
    x = rng.integers(info.max // 4, info.max, shape, dtype=dtype) * rng.choice(np.array([-1, 1], dtype), shape)
    for exclusive, reverse in VARIANTS:
        y = cp.full(shape, -7, dtype=dtype)
        getattr(ext, op)(
            [cp.asarray(x), cp.asarray(np.array(-1, np.int32))], [y], {"exclusive": exclusive, "reverse": reverse}
        )
        scan = np.cumprod if op == "cum_prod" else np.cumsum
        identity = 1 if op == "cum_prod" else 0
        ordered = np.flip(x, -1) if reverse else x
        with np.errstate(over="ignore"):
            expected = scan(ordered, axis=-1, dtype=dtype)
            if exclusive:
                head = np.full((*shape[:-1], 1), identity, dtype)
                expected = np.concatenate([head, expected[..., :-1]], axis=-1)
        expected = np.flip(expected, -1) if reverse else expected
        np.testing.assert_array_equal(cp.asnumpy(y), expected)


def test_large_1d_past_2_31_elements(cp, ext) -> None:
    """A 1-D int32 x of 2**31 + 3075 ones through the binding, so the one-pass scan (about 524K
    tiles): y[i] = i + 1 wrapped to int32, checked at both ends and across 2**31; an index or tile
    offset wrapped at 2**31 reads another prefix."""
    n = 2**31 + 3075
    free, _ = cp.cuda.runtime.memGetInfo()
    if free < 2 * 4 * n + (1 << 30):
        pytest.skip(f"needs ~{8 * n >> 30} GiB of free GPU memory")
    x = cp.ones(n, dtype=cp.int32)
    y = cp.full(n, -7, dtype=cp.int32)
    ext.cum_sum([x, cp.asarray(np.array(0, np.int32))], [y], {})
    del x
    for start in (0, 2**31 - 1024 - 3, 2**31 - 3, n - 1027):
        window = np.arange(start, start + 6, dtype=np.int64)
        expected = ((window + 1 + 2**31) % 2**32 - 2**31).astype(np.int32)
        np.testing.assert_array_equal(cp.asnumpy(y[start : start + 6]), expected, err_msg=f"at {start}")
