"""CumSum / CumProd's windowed column path on a GPU (plugins/cumulative/column_scan.cuh,
scanColumnWindows): fewer than 65536 columns of 64 elements or more, a block per 32 columns
walking down them in windows of 8 warps x 8 rows (x 4 rows for int64) held in registers. Boundaries:
lengths around the window (32 and 64 rows) and the path's minimum of 64, column counts around the
block's 32 and just below the plain column path's 65536, short rows (inner 1) that take it, and the
benchmark's first-axis shapes. Compared with the parity reference (onnx.reference) at the spec's
tolerances, outputs poisoned first (tests/test_cumulative_gpu.py)."""

from __future__ import annotations

import pytest

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
