"""Antialiased Resize of the last two axes in one kernel on a GPU (resize_plane.cuh): a block per
16 x 64 output tile of a plane, the vertical pass into shared memory (4 fp32 or 8 narrower
columns per thread), then the horizontal pass. It takes input rows of whole vectors on their
alignment; other inputs keep the two passes. Checked against onnx.reference on poisoned outputs
(every float type and uint8, linear and cubic, down- and upscaling, tiles cut by the output's
edges, every coordinate mode with a roi past both ends, so that some tiles have every row or
every column extrapolated, exclude_outside, widths and alignments the kernel declines), and
against the two-pass path. TRTPLUG_RESIZE_PLANE (read per launch) chooses: 1 the plane kernel
wherever it applies (these tensors' intermediates are far below L2, where it is not chosen by
default), 0 the two passes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, host_values
from tests.test_resize_antialias_tables_gpu import COORDS, check_resize, uniform
from tests.test_resize_antialias_vector_gpu import resized_bits
from trtplug.protolib.dtypes import numpy_dtype

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def plane_kernel(monkeypatch):
    monkeypatch.setenv("TRTPLUG_RESIZE_PLANE", "1")


# (shape, sizes of the last two axes): tiles of 16 x 64 outputs, cut by the edges in most. Input
# widths are whole vectors (multiples of 8) except the last two, which take the two passes
# (fp32's 4-wide vectors take W = 300).
GEOMETRIES = [
    ((2, 3, 200, 304), (47, 70)),  # torchvision-like downscale, 3 x 2 tiles, both edges cut
    ((1, 1, 64, 640), (16, 64)),  # one whole tile, a tenth in width
    ((3, 5, 33, 128), (1, 1)),  # one output per plane
    ((4, 2, 9, 16), (21, 150)),  # upscaling both: short windows, 3 tiles across
    ((2, 40, 32), (90, 7)),  # rank 3: 2 planes, up in H, down in W
    ((1, 2, 1, 704), (3, 65)),  # a single input row, two tiles across (65 = 64 + 1)
    ((7, 17, 296), (5, 129)),  # 7 planes, down in H, 3 tiles across
    ((2, 3, 50, 300), (20, 31)),  # 300 = 75 fp32 vectors: the plane kernel in fp32, two passes in 16 bits
    ((2, 2, 40, 333), (13, 100)),  # no whole vectors: the two passes
]


def resized_shape(shape, sizes):
    return (*shape[:-2], *sizes)


@pytest.mark.parametrize(("shape", "sizes"), GEOMETRIES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_plane_kernel_matches_reference(ext, cp, shape, sizes, dtype, mode):
    rank = len(shape)
    fields = {"antialias": 1, "mode": mode, "axes": [rank - 2, rank - 1], "sizes": list(sizes)}
    check_resize(ext, cp, uniform(shape, 3), fields, dtype)


@pytest.mark.parametrize("coord", [*COORDS, "tf_crop_and_resize"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("exclude", [0, 1])
def test_plane_kernel_coordinate_modes(ext, cp, coord, mode, exclude):
    fields = {"antialias": 1, "mode": mode, "coordinate_transformation_mode": coord, "exclude_outside": exclude}
    fields.update(axes=[2, 3], scales=[0.29, 0.41])
    if coord == "tf_crop_and_resize":  # a roi past both ends of both axes: extrapolated rows and columns
        fields.update(roi=[-0.2, 0.1, 1.1, 1.3], extrapolation_value=0.5)
    check_resize(ext, cp, uniform((2, 3, 70, 336), 4), fields, "float32")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unaligned_input_takes_the_two_passes(ext, cp, dtype):
    fields = {"antialias": 1, "mode": "linear", "axes": [2, 3], "sizes": [11, 37]}
    check_resize(ext, cp, uniform((2, 3, 40, 128), 7), fields, dtype, offset=1)


@pytest.mark.parametrize(("shape", "sizes"), GEOMETRIES[:3])
@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, "uint8"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_plane_kernel_agrees_with_two_passes(ext, cp, monkeypatch, shape, sizes, dtype, mode):
    """Within one rounding of the output: the two-pass path's intermediate is X's type (16-bit types
    round it), the plane kernel's float32; uint8 rounds both to the same integer or one apart."""
    values = np.random.default_rng(5).uniform(-1.0, 1.0, shape).astype(np.float32)
    x = np.round((values + 1) * 127.5).astype(np.uint8) if dtype == "uint8" else host_values(values, dtype)
    fields = {"antialias": 1, "mode": mode, "axes": [len(shape) - 2, len(shape) - 1], "sizes": list(sizes)}
    out = resized_shape(shape, sizes)
    plane = resized_bits(ext, cp, x, fields, out, dtype, 0)
    monkeypatch.setenv("TRTPLUG_RESIZE_PLANE", "0")
    passes = resized_bits(ext, cp, x, fields, out, dtype, 0)
    kind = np.uint8 if dtype == "uint8" else numpy_dtype(dtype)
    a, b = (v.view(kind).astype(np.float64) for v in (plane, passes))
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, b, rtol=0, atol=AGREEMENT[dtype])


# The two results differ by the 16-bit rounding of the two-pass intermediate (about one output
# rounding), by float32 summation order, and for uint8 by at most one after rounding.
AGREEMENT = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1.6e-2, "uint8": 1.0}


def test_extreme_downscale_takes_the_two_passes(ext, cp):
    """A width shrunk 400x: a tile's horizontal taps span more columns than shared memory holds."""
    fields = {"antialias": 1, "mode": "linear", "axes": [1, 2], "sizes": [3, 10]}
    check_resize(ext, cp, uniform((2, 6, 4000), 6), fields, "float32")
