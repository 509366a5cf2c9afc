"""CumSum / CumProd's one-pass scan of a 1-D x on a GPU (plugins/cumulative/lookback_scan.cuh): a
block per 16 KiB tile (fp32/int32 4096 elements, fp16/bf16 8192, int64 2048), 8 warps of 4 16-byte
vectors per lane, tile prefixes by decoupled look-back through the workspace, whole tiles placed on
16 bytes (a short first tile takes the head, forwards and reversed). Boundaries: 1, 2 and 31
elements, a warp segment, one tile and +-1, several tiles, odd lengths, 1M and 16M; views 1-3
elements into their buffers (x and y alike: a head; unlike: every tile staged); x and y the same
array; a workspace given poisoned or too small; an out-of-range device axis (NaN, the integer
minimum); through the plugin (build phase: the host's poisoned workspace; runtime phase: none, the
chunked path). Compared with the parity reference at the spec's tolerances, outputs poisoned first
(tests/test_cumulative_gpu.py's run_case)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import plugin_executor
from tests.test_cumulative_chunked_gpu import DTYPES, bits_of, in_place_binding, shifted_binding
from tests.test_cumulative_gpu import OPS, VARIANTS, binding, run_case
from trtplug.protolib.dtypes import Bf16Device

pytestmark = pytest.mark.gpu

TILE_BYTES = 16384
ITEMSIZE = {"float32": 4, "float16": 2, "bfloat16": 2, "int32": 4, "int64": 8}
# Lengths as functions of the dtype's tile (16 KiB of elements); "large" ids stay out of memcheck.
LENGTHS = {
    "n1": lambda t: 1,
    "n2": lambda t: 2,
    "n31": lambda t: 31,
    "segment+1": lambda t: t // 8 + 1,  # one warp's 4 vectors per lane, and one more element
    "tile-1": lambda t: t - 1,
    "tile": lambda t: t,
    "tile+1": lambda t: t + 1,
    "2tiles-3": lambda t: 2 * t - 3,
    "7tiles+5": lambda t: 7 * t + 5,
    "odd-12345": lambda t: 12345,
    "odd-100003": lambda t: 100003,
    "1M": lambda t: 1 << 20,
    "large-1M+3": lambda t: (1 << 20) + 3,
    "large-16M+5": lambda t: (1 << 24) + 5,
}


def length_of(name: str, dtype: str) -> int:
    return LENGTHS[name](TILE_BYTES // ITEMSIZE[dtype])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", list(LENGTHS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_1d(cp, ext, op, length, dtype, exclusive, reverse, seed) -> None:
    run_case(cp, op, (length_of(length, dtype),), 0, dtype, exclusive, reverse, seed, binding(cp, ext))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", ["n2", "tile+1", "7tiles+5", "odd-100003"])
@pytest.mark.parametrize("offsets", [(1, 1), (3, 3), (0, 1), (1, 0), (2, 5)], ids=lambda o: f"x{o[0]}-y{o[1]}")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_unaligned_views(cp, ext, op, length, offsets, dtype, exclusive, reverse, seed) -> None:
    shape = (length_of(length, dtype),)
    run_case(cp, op, shape, 0, dtype, exclusive, reverse, seed, shifted_binding(cp, ext, *offsets))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", ["n31", "tile+1", "7tiles+5", "large-1M+3"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_in_place(cp, ext, op, length, dtype, exclusive, reverse, seed) -> None:
    shape = (length_of(length, dtype),)
    run_case(cp, op, shape, 0, dtype, exclusive, reverse, seed, in_place_binding(cp, ext))


def given_workspace(cp, ext, fill: int):
    """The binding with the caller's workspace (as TensorRT hands the plugin one), filled with
    `fill` first: the scan must not rely on what a workspace holds."""

    def execute(spec, ins, outs, attrs):
        dtype = "bfloat16" if isinstance(ins[0], Bf16Device) else ins[0].dtype.name
        workspace = cp.full(ext.cumulative_workspace_bytes(dtype, list(ins[0].shape)), fill, dtype=cp.uint8)
        getattr(ext, spec.key)(ins, outs, attrs, None, workspace)
        cp.cuda.get_current_stream().synchronize()

    return execute


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", ["tile+1", "7tiles+5", "large-1M+3"])
@pytest.mark.parametrize("fill", [0x00, 0xFF, 0x01])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64"])
def test_given_workspace(cp, ext, op, length, fill, dtype, seed) -> None:
    for exclusive, reverse in VARIANTS:
        shape = (length_of(length, dtype),)
        run_case(cp, op, shape, 0, dtype, exclusive, reverse, seed, given_workspace(cp, ext, fill))


def test_too_small_a_workspace_is_refused(cp, ext) -> None:
    x = cp.ones(5000, dtype=cp.float32)
    y = cp.full(5000, cp.nan, dtype=cp.float32)
    small = cp.zeros(ext.cumulative_workspace_bytes("float32", [5000]) - 1, dtype=cp.uint8)
    with pytest.raises(ValueError, match="workspace smaller"):
        ext.cum_sum([x, cp.asarray(np.array(0, np.int32))], [y], {}, None, small)
    assert bool(cp.isnan(y).all())


def marked_invalid(cp, y, dtype: str):
    if dtype == "bfloat16":
        bits = bits_of(y)
        return ((bits & 0x7F80) == 0x7F80) & ((bits & 0x007F) != 0)  # NaN
    return cp.isnan(y) if dtype.startswith("float") else y == np.iinfo(dtype).min


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", ["n1", "tile+1", "large-1M+3"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [1, -2, 100])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_out_of_range_axis_poisons_the_output(cp, ext, op, length, dtype, axis, exclusive, reverse) -> None:
    """Every tile marks its elements (NaN, or the integer minimum) without looking back."""
    n = length_of(length, dtype)
    if dtype == "bfloat16":
        x, y = Bf16Device(cp.full(n, 0x3F80, dtype=cp.uint16)), Bf16Device(cp.zeros(n, dtype=cp.uint16))
    else:
        x, y = cp.ones(n, dtype=dtype), cp.zeros(n, dtype=dtype)
    getattr(ext, op)([x, cp.asarray(np.array(axis, np.int64))], [y], {"exclusive": exclusive, "reverse": reverse})
    cp.cuda.get_current_stream().synchronize()
    assert bool(marked_invalid(cp, y, dtype).all())


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("length", ["n31", "tile+1", "large-1M+3"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int32"])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, op, length, dtype, phase, seed) -> None:
    """Build phase: the host's workspace (poisoned 0xFF), the one-pass scan; runtime phase: no
    workspace, the chunked path. Both on a side stream, with the axis as int32."""

    execute = plugin_executor(cp, library, phase)

    for exclusive, reverse in VARIANTS:
        run_case(cp, op, (length_of(length, dtype),), -1, dtype, exclusive, reverse, seed, execute)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_wraparound(cp, ext, op, dtype) -> None:
    """Values near the type's limits over many tiles: the tile aggregates and prefixes wrap as
    NumPy's scan does."""
    info = np.iinfo(dtype)
    n = 9 * TILE_BYTES // ITEMSIZE[dtype] + 7
    rng = np.random.default_rng(n)
    x = rng.integers(info.max // 4, info.max, n, dtype=dtype) * rng.choice(np.array([-1, 1], dtype), n)
    scan = np.cumprod if op == "cum_prod" else np.cumsum
    identity = 1 if op == "cum_prod" else 0
    for exclusive, reverse in VARIANTS:
        y = cp.full(n, -7, dtype=dtype)
        getattr(ext, op)(
            [cp.asarray(x), cp.asarray(np.array(0, np.int32))], [y], {"exclusive": exclusive, "reverse": reverse}
        )
        ordered = x[::-1] if reverse else x
        with np.errstate(over="ignore"):
            expected = scan(ordered, dtype=dtype)
        expected = np.concatenate([np.array([identity], dtype), expected[:-1]]) if exclusive else expected
        np.testing.assert_array_equal(cp.asnumpy(y), expected[::-1] if reverse else expected)
