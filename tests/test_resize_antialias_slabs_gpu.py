"""Antialiased Resize run slab by slab on a GPU (resize_slabs.h): the passes take a slab of the
leading axes no pass resizes at a time, so that its intermediate stays in L2 for the next pass.
TRTPLUG_RESIZE_SLAB_BYTES (read per launch) shrinks the budget so that these small tensors split
into slabs of one unit, of a few units with a shorter last one, or none. Each slabbed result is
checked against onnx.reference on a poisoned output, and bit for bit against the same resize run
as one slab: every output element sums the same taps in the same order either way."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, host_values
from tests.test_resize_antialias_tables_gpu import check_resize, uniform
from tests.test_resize_antialias_vector_gpu import resized_bits

pytestmark = pytest.mark.gpu

# (shape, axes, sizes): the leading units (product of the axes before the first resized one) in
# the comment; three resized axes in the last: two intermediates, ping-ponged within each slab.
GEOMETRIES = [
    ((2, 3, 40, 64), [2, 3], [17, 23]),  # NCHW: 6 units
    ((5, 48, 40, 8), [1, 2], [21, 19]),  # NHWC: 5 units (N), both passes on outer axes
    ((7, 30, 9), [1, 2], [11, 4]),  # 7 units
    ((3, 2, 12, 10, 16), [2, 3, 4], [5, 7, 6]),  # 6 units, three passes
    ((1, 1, 50, 60), [2, 3], [20, 30]),  # 1 unit: never split
]
# Budgets: slabs of one unit; of two or three units (the intermediates here are 2-60 KB); one slab.
BUDGETS = ["1", "4000", "30000", str(1 << 40)]


@pytest.mark.parametrize(("shape", "axes", "sizes"), GEOMETRIES)
@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_slabs_match_the_reference(ext, cp, monkeypatch, shape, axes, sizes, budget, dtype):
    monkeypatch.setenv("TRTPLUG_RESIZE_SLAB_BYTES", budget)
    fields = {"antialias": 1, "mode": "linear", "axes": axes, "sizes": sizes}
    check_resize(ext, cp, uniform(shape, 11), fields, dtype)


@pytest.mark.parametrize(("shape", "axes", "sizes"), GEOMETRIES)
@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, "uint8"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_slabs_agree_with_one_slab_bit_for_bit(ext, cp, monkeypatch, shape, axes, sizes, dtype, mode):
    values = np.random.default_rng(12).uniform(-1.0, 1.0, shape).astype(np.float32)
    x = np.round((values + 1) * 127.5).astype(np.uint8) if dtype == "uint8" else host_values(values, dtype)
    fields = {"antialias": 1, "mode": mode, "axes": axes, "sizes": sizes}
    out_shape = list(shape)
    for axis, size in zip(axes, sizes, strict=True):
        out_shape[axis] = size
    results = []
    for budget in (str(1 << 40), "1", "4000"):
        monkeypatch.setenv("TRTPLUG_RESIZE_SLAB_BYTES", budget)
        results.append(resized_bits(ext, cp, x, fields, tuple(out_shape), dtype, 0))
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], results[2])
