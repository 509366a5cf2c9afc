"""CumSum / CumProd's column paths on a GPU (plugins/cumulative/column_scan.cuh). The windowed path
(scanColumnWindows): fewer than 65536 columns of 64 elements or more, a block per 32 columns
walking down them in windows of 8 warps x 8 rows (x 4 rows for int64) held in registers. Boundaries:
lengths around the window (32 and 64 rows) and the path's minimum of 64, column counts around the
block's 32 and just below the plain column path's 65536, short rows (inner 1) that take it, and the
benchmark's first-axis shapes. The plain column walk's fp16/bf16 column pairs (walkColumnPair: an
even inner extent, x and y on 4 bytes; single columns otherwise): 16-row batches +-1, odd and even
inner extents, views 1 or 2 elements into their buffer, the benchmark's middle-axis shape.
Compared with the parity reference (onnx.reference) at the spec's tolerances, outputs poisoned
first (tests/test_cumulative_gpu.py)."""

from __future__ import annotations

import pytest

from tests.test_cumulative_chunked_gpu import shifted_binding
from tests.test_cumulative_gpu import OPS, VARIANTS, binding, geometry_id, run_case

pytestmark = pytest.mark.gpu

GEOMETRIES = [
    ((63, 5), 0),  # below the minimum length: plain columns
    ((64, 5), 0),
    ((65, 31), 0),
    ((31, 32), 0),  # int64's window is 32 rows
    ((33, 33), 0),
    ((127, 3, 32), 0),
    ((128, 1), 0),
    ((129, 65), 0),
    ((4, 100, 7), 1),  # columns of (outer, inner) pairs: 28 of them
    ((3, 96, 2, 5), -3),
    ((5, 100), 1),  # short rows (below the row path's 128) walked as columns of stride 1
    ((300, 65535), 0),  # the largest column count the path takes
    ((300, 65536), 0),  # plain columns
    ((2048, 16384), 0),  # the benchmark's fp32 first-axis case (128 MiB)
    ((4096, 16384), 0),  # the benchmark's fp16 first-axis case
]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int32", "int64"])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_columns(cp, ext, op, geometry, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, binding(cp, ext))


# Plain columns (length below 64, or 65536 columns and more): pairs where the inner extent is even.
PAIR_GEOMETRIES = [
    ((3, 5, 2), 1),
    ((2, 15, 6), 1),
    ((2, 16, 6), 1),
    ((2, 17, 6), 1),
    ((5, 33, 3), 1),  # odd inner: single columns
    ((40, 8), 0),
    ((40, 7), 0),
    ((2, 70, 32768), 1),  # 65536 columns of 70
    ((2, 70, 32769), 1),
    ((8, 512, 16384), 1),  # the benchmark's fp16 middle-axis case (128 MiB)
]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", PAIR_GEOMETRIES, ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_column_pairs(cp, ext, op, geometry, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, binding(cp, ext))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("geometry", [((2, 17, 6), 1), ((40, 8), 0), ((2, 70, 32768), 1)], ids=geometry_id)
@pytest.mark.parametrize("offsets", [(1, 1), (0, 1), (1, 0), (2, 2)], ids=lambda o: f"x{o[0]}-y{o[1]}")
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS, ids=lambda v: str(v))
def test_column_pairs_unaligned_views(cp, ext, op, geometry, offsets, dtype, exclusive, reverse, seed) -> None:
    shape, axis = geometry
    run_case(cp, op, shape, axis, dtype, exclusive, reverse, seed, shifted_binding(cp, ext, *offsets))
