"""Antialiased Resize's vector kernel on a GPU (resizeOuterVectorKernel in resize_antialias.cu): an
outer-axis pass from tap tables whose inner width is a whole number of vectors (4 fp32, 8 of the
narrower types) and whose x and y sit on the vector's alignment computes several outputs of a row
per thread. Checked against onnx.reference on poisoned outputs (every float type, linear and cubic,
NCHW and NHWC, an extrapolated roi, widths of exactly one vector), and bit for bit against the
scalar kernel: the same input one element into its buffer is unaligned, so the scalar kernel runs
it, and each output must sum its taps in the same order."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, host_values, offset_view, poisoned_view
from tests.test_resize_antialias_tables_gpu import check_resize, uniform
from trtplug.protolib.dtypes import numpy_dtype

pytestmark = pytest.mark.gpu

# (shape, axes, scales): the first pass runs on an outer axis with inner % 8 == 0 in each.
VECTOR_GEOMETRIES = [
    ((2, 3, 40, 64), [2, 3], [0.3, 0.55]),  # NCHW: H first (inner 64), then W
    ((2, 48, 40, 8), [1, 2], [0.21, 0.6]),  # NHWC: both passes on outer axes (inner 320, then 8)
    ((5, 33, 16), [1], [0.45]),  # one pass, inner 16
    ((3, 17, 8), [1], [2.3]),  # upscaling, inner exactly one fp16 vector
    ((2, 29, 4), [1], [0.4]),  # inner exactly one fp32 vector: the narrower types fall back
]


@pytest.mark.parametrize(("shape", "axes", "scales"), VECTOR_GEOMETRIES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_vector_pass_matches_reference(ext, cp, shape, axes, scales, dtype, mode):
    fields = {"antialias": 1, "mode": mode, "axes": axes, "scales": scales}
    check_resize(ext, cp, uniform(shape, 7), fields, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_vector_pass_extrapolates_outside_the_roi(ext, cp, dtype):
    fields = {"antialias": 1, "mode": "linear", "axes": [1, 2], "sizes": [9, 5]}
    fields.update(coordinate_transformation_mode="tf_crop_and_resize", roi=[-0.3, 0.1, 1.2, 0.9])
    fields["extrapolation_value"] = 0.75
    check_resize(ext, cp, uniform((2, 30, 12, 16), 8), fields, dtype)


def resized_bits(ext, cp, x: np.ndarray, fields: dict, out_shape, dtype: str, offset: int) -> np.ndarray:
    """Y's raw bytes after resizing x placed `offset` elements into its buffer (Y likewise). Y is
    poisoned first: NaN for the float types, for uint8 a value that differs with the offset."""
    if dtype == "uint8":
        y = cp.full(int(np.prod(out_shape)) + offset, 77 + offset, dtype=cp.uint8)[offset:].reshape(out_shape)
    else:
        _, y = poisoned_view(cp, out_shape, dtype, offset)
    ext.resize_antialias([offset_view(cp, x, offset)], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    return cp.asnumpy(getattr(y, "bits", y)).view(np.uint8)


@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, "uint8"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_vector_and_scalar_kernels_agree_bit_for_bit(ext, cp, monkeypatch, dtype, mode):
    monkeypatch.setenv("TRTPLUG_RESIZE_PLANE", "0")  # the two passes, aligned or not
    shape, size = (2, 3, 45, 64), [19, 24]
    values = np.random.default_rng(9).uniform(-1.0, 1.0, shape).astype(np.float32)
    x = np.round((values + 1) * 127.5).astype(np.uint8) if dtype == "uint8" else host_values(values, dtype)
    fields = {"antialias": 1, "mode": mode, "axes": [2, 3], "sizes": size}
    out_shape = (*shape[:2], *size)
    aligned = resized_bits(ext, cp, x, fields, out_shape, dtype, 0)
    unaligned = resized_bits(ext, cp, x, fields, out_shape, dtype, 1)
    if dtype != "uint8":  # NaN poison left unwritten in both runs would compare equal
        assert np.isfinite(aligned.view(numpy_dtype(dtype)).astype(np.float32)).all()
    assert np.array_equal(aligned, unaligned)
