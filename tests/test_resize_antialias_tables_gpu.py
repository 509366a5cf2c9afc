"""Antialiased Resize's tap-table path on a GPU (per-axis first tap and normalised weights built
once per launch, then multiply-adds; tapTablesApply() in resize_antialias.cu picks it) against
onnx.reference or torch: every coordinate mode, exclude_outside, the cubic coefficient, up- and
downscaling per axis, ranks 1-5, lengths around the warp and block widths, unaligned views,
one-element and empty inputs, tables on either side of their 512 KiB room (the larger falls back
to the per-element path) and the benchmark's largest shapes. Outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view
from tests.test_resize_antialias_gpu import TORCH_AA, onnx_reference

pytestmark = pytest.mark.gpu

TOLERANCE = {"float32": 3e-4, "float16": 4e-3, "bfloat16": 1e-2}  # the spec's, as atol and rtol
TABLE_ROOM = 512 << 10  # kTapTableBytes


def check_resize(ext, cp, x: np.ndarray, fields: dict, dtype: str, offset: int = 0) -> None:
    """Resize x (rounded to dtype, `offset` elements into its buffer) into a poisoned Y and
    compare with onnx.reference on the rounded input."""
    rounded = host_values(x, dtype)
    expected = onnx_reference(rounded.astype(np.float32), fields)
    _, y = poisoned_view(cp, expected.shape, dtype, offset)
    ext.resize_antialias([offset_view(cp, rounded, offset)], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(as_float64(y), expected, rtol=tol, atol=tol)


def uniform(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32)


COORDS = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("coord", [*COORDS, "tf_crop_and_resize"])
@pytest.mark.parametrize("scales", [[0.37, 1.7], [1.45, 0.31]], ids=["downH-upW", "upH-downW"])
def test_every_coordinate_mode(ext, cp, dtype, mode, coord, scales):
    fields = {"antialias": 1, "mode": mode, "coordinate_transformation_mode": coord, "axes": [2, 3]}
    fields["scales"] = scales
    if coord == "tf_crop_and_resize":  # a roi past both ends: extrapolated outputs on each side
        fields.update(roi=[0.1, -0.2, 0.8, 1.15], extrapolation_value=0.25)
    check_resize(ext, cp, uniform((2, 3, 37, 53)), fields, dtype)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("exclude", [0, 1])
@pytest.mark.parametrize("a", [-0.75, -0.5, -0.3])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_exclude_outside_and_cubic_coefficient(ext, cp, dtype, exclude, a, mode):
    fields = {"antialias": 1, "mode": mode, "cubic_coeff_a": a, "exclude_outside": exclude}
    fields.update(axes=[1, 2], sizes=[7, 61], coordinate_transformation_mode="half_pixel")
    check_resize(ext, cp, uniform((3, 45, 19)), fields, dtype)


@pytest.mark.parametrize(
    ("shape", "axes", "scales"),
    [
        ((1000,), [0], [0.137]),  # rank 1, one innermost pass with ~15 taps
        ((41, 5, 29), [0, 2], [0.3, 2.2]),  # outer axis down (inner 145), innermost up
        ((6, 70, 3), [1], [0.45]),  # channels last: inner 3, warps span output rows
        ((2, 48, 40, 3), [1, 2], [0.21, 0.6]),  # NHWC, both passes on outer axes
        ((2, 3, 19, 23, 17), [2, 3, 4], [0.4, 1.5, 0.6]),  # three passes: both scratch buffers
        ((2, 2, 9, 30, 44), [0, 4], [2.0, 0.5]),  # the batch axis upscaled
    ],
)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_ranks_and_axes(ext, cp, shape, axes, scales, dtype, mode):
    fields = {"antialias": 1, "mode": mode, "axes": axes, "scales": scales}
    check_resize(ext, cp, uniform(shape, 1), fields, dtype)


@pytest.mark.parametrize("length", [31, 32, 33, 255, 256, 257])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_lengths_around_warp_and_block_widths(ext, cp, length, mode):
    """Output rows of `length` (innermost pass: outputs per row; outer pass: the inner width)."""
    fields = {"antialias": 1, "mode": mode, "axes": [0, 1], "sizes": [length, length]}
    check_resize(ext, cp, uniform((301, 97), 2), fields, "float32")
    check_resize(ext, cp, uniform((23, length), 3), {**fields, "sizes": [9, length // 2 + 1]}, "float32")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unaligned_views(ext, cp, dtype):
    fields = {"antialias": 1, "mode": "cubic", "axes": [2, 3], "sizes": [17, 29]}
    check_resize(ext, cp, uniform((2, 3, 45, 38), 4), fields, dtype, offset=1)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_one_element_and_empty_inputs(ext, cp, mode):
    base = {"antialias": 1, "mode": mode, "axes": [2, 3]}
    check_resize(ext, cp, uniform((1, 1, 1, 1), 5), {**base, "sizes": [3, 5]}, "float32")
    check_resize(ext, cp, uniform((1, 1, 5, 1), 6), {**base, "sizes": [1, 1]}, "float16")
    x = cp.zeros((0, 3, 16, 16), dtype=cp.float32)
    y = cp.full((0, 3, 8, 8), cp.nan, dtype=cp.float32)
    ext.resize_antialias([x], [y], {**base, "sizes": [8, 8]})
    cp.cuda.get_current_stream().synchronize()


def table_bytes(out: int, taps: int) -> int:
    """One axis's table as resize_antialias.cu lays it out: first taps, then weights, 256-aligned."""
    return sum(-(-n // 256) * 256 for n in (4 * out, 4 * taps * out))


@pytest.mark.parametrize("out", [26200, 26214], ids=["tables", "per-element"])
def test_table_room_boundary(ext, cp, out):
    """A halved innermost axis (4 linear taps) whose table just fits, or just misses, the room:
    both paths must match torch."""
    torch = pytest.importorskip("torch")
    assert (table_bytes(out, 4) <= TABLE_ROOM) == (out == 26200)
    x = torch.randn((1, 2, 3, 2 * out), device="cuda")
    expected = torch.nn.functional.interpolate(x, size=(3, out), mode="bilinear", antialias=True)
    _, y = poisoned_view(cp, (1, 2, 3, out), "float32")
    ext.resize_antialias([cp.asarray(x)], [y], {**TORCH_AA, "mode": "linear", "axes": [2, 3], "sizes": [3, out]})
    cp.cuda.get_current_stream().synchronize()
    np.testing.assert_allclose(cp.asnumpy(y), expected.cpu().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize(
    ("shape", "size"), [((8, 3, 2160, 3840), (512, 910)), ((8, 3, 1024, 1024), (224, 224))], ids=["4k", "1k"]
)
def test_benchmark_shapes_match_torch(ext, cp, shape, size, dtype, mode):
    torch = pytest.importorskip("torch")
    x = torch.randn(shape, device="cuda").to(getattr(torch, dtype))
    a = -0.5 if mode == "cubic" else -0.75
    torch_mode = "bilinear" if mode == "linear" else "bicubic"
    expected = torch.nn.functional.interpolate(x.float(), size=size, mode=torch_mode, antialias=True)
    _, y = poisoned_view(cp, (*shape[:2], *size), dtype)
    fields = {**TORCH_AA, "mode": mode, "cubic_coeff_a": a, "axes": [2, 3], "sizes": list(size)}
    ext.resize_antialias([cp.asarray(x)], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    tol = 1e-4 if dtype == "float32" else 4e-3
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), expected.cpu().numpy(), rtol=tol, atol=tol)
