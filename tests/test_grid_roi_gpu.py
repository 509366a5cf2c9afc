"""GridSample and RoiAlign on a GPU beyond the parity cases (which run the launchers and the
plugins on every spec and conformance case): the launchers against torch's F.grid_sample and
torchvision.ops.roi_align at model sizes, the plugins through the host, bf16, empty inputs and
the bindings' refusals. Outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu
TOLERANCE = {"float32": 1e-4, "float16": 4e-3}
MMCV_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
MMCV_PADDING = {"zeros": 0, "border": 1, "reflection": 2}


def poisoned(cp, shape, dtype):
    return cp.full(shape, cp.nan, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize(
    ("shape", "out", "mode", "padding"),
    [
        ((2, 32, 64, 64, 64), (64, 64, 64), "bilinear", "zeros"),  # issue 18's volumetric case
        ((2, 8, 20, 24, 28), (9, 10, 11), "nearest", "reflection"),
        ((2, 16, 96, 128), (48, 64), "bicubic", "border"),
        ((1, 3, 37, 41), (13, 7), "bilinear", "reflection"),
    ],
)
@pytest.mark.parametrize("align", [0, 1])
def test_mmcv_launcher_matches_torch_grid_sample(ext, cp, dtype, shape, out, mode, padding, align):
    torch = pytest.importorskip("torch")
    x = torch.randn(shape, device="cuda").to(getattr(torch, dtype))
    grid = (torch.rand((shape[0], *out, len(out)), device="cuda") * 2.4 - 1.2).to(x.dtype)
    expected = torch.nn.functional.grid_sample(
        x.float(), grid.float(), mode=mode, padding_mode=padding, align_corners=bool(align)
    )
    y = poisoned(cp, tuple(expected.shape), dtype)
    attrs = {"interpolation_mode": MMCV_MODES[mode], "padding_mode": MMCV_PADDING[padding], "align_corners": align}
    ext.mmcv_grid_sampler([cp.asarray(x), cp.asarray(grid)], [y], attrs)
    cp.cuda.get_current_stream().synchronize()
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), expected.cpu().numpy(), rtol=tol, atol=tol)


def test_grid_sample_in_bfloat16(ext, cp):
    from trtplug.protolib.dtypes import Bf16Device, to_bfloat16
    from trtplug.protolib.grid_sampling import grid_sample

    rng = np.random.default_rng(7)
    x = to_bfloat16(rng.standard_normal((2, 4, 9, 10, 11)).astype(np.float32))
    grid = to_bfloat16(rng.uniform(-1.1, 1.1, (2, 5, 6, 7, 3)).astype(np.float32))
    y = Bf16Device.poisoned(cp, (2, 4, 5, 6, 7))
    ext.onnx_grid_sample([Bf16Device.from_host(cp, x), Bf16Device.from_host(cp, grid)], [y], {"mode": "cubic"})
    cp.cuda.get_current_stream().synchronize()
    expected = grid_sample(np, x.astype(np.float32), grid.astype(np.float32), "cubic", "zeros", False, "onnx")
    np.testing.assert_allclose(y.to_host().astype(np.float32), expected, rtol=2e-2, atol=2e-2)


def test_grid_sample_empty_inputs_and_refusals(ext, cp):
    y = poisoned(cp, (0, 3, 4, 5), cp.float32)
    ext.onnx_grid_sample([cp.zeros((0, 3, 8, 8), cp.float32), cp.zeros((0, 4, 5, 2), cp.float32)], [y], {})
    x = cp.zeros((1, 3, 8, 8, 8), cp.float32)
    y = poisoned(cp, (1, 3, 4, 4, 4), cp.float32)
    with pytest.raises(ValueError, match=r"grid must be \(N, \*output dims, 3\)"):
        ext.onnx_grid_sample([x, cp.zeros((1, 4, 4, 4, 2), cp.float32)], [y], {})
    with pytest.raises(ValueError, match="attribute 'mode'"):
        ext.onnx_grid_sample([x, cp.zeros((1, 4, 4, 4, 3), cp.float32)], [y], {"mode": "area"})
    assert bool(cp.isnan(y).all())


@pytest.mark.pluginlib
@pytest.mark.parametrize(("name", "fields"), [
    ("TrtplugGridSample", {"mode": "linear", "padding_mode": "border", "align_corners": 1}),
    ("TrtplugMmcvGridSampler", {"interpolation_mode": 0, "padding_mode": 1, "align_corners": 1}),
])  # fmt: skip
def test_grid_sample_plugin_through_the_host(library, cp, name, fields):
    from trtplug.protolib.grid_sampling import grid_sample

    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 6, 7, 8)).astype(np.float32)
    grid = rng.uniform(-1.2, 1.2, (2, 4, 5, 3, 3)).astype(np.float32)
    plugin = library.create(name, "1", "trtplug", fields)
    assert plugin is not None
    assert plugin.output_shapes([list(x.shape), list(grid.shape)], None) == [[2, 3, 4, 5, 3]]
    y = poisoned(cp, (2, 3, 4, 5, 3), cp.float32)
    plugin.round_trip().run([cp.asarray(x), cp.asarray(grid)], [y])
    expected = grid_sample(np, x, grid, "linear", "border", True, "onnx")  # both orders agree for linear
    np.testing.assert_allclose(cp.asnumpy(y), expected, rtol=1e-4, atol=1e-4)


def detection_boxes(rng, k, n, size, scale):
    centres = rng.uniform(-0.1, 1.1, (k, 2)) * size
    sides = rng.uniform(1.0, 0.8 * size, (k, 2))
    boxes = np.concatenate([centres - sides / 2, centres + sides / 2], axis=1) / scale
    return boxes.astype(np.float32), rng.integers(0, n, k).astype(np.int64)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize(("ratio", "aligned"), [(2, True), (0, True), (0, False)])
def test_roi_align_matches_torchvision(ext, cp, dtype, ratio, aligned):
    """A Mask R-CNN head: 1000 regions on a 256-channel stride-4 map, 7 x 7 bins."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 256, 200, 272)).astype(dtype)
    boxes, batch = detection_boxes(rng, 1000, 2, 200, 0.25)
    boxes = boxes.astype(dtype).astype(np.float32)  # torchvision sees the boxes the plugin gets
    rows = torch.from_numpy(np.concatenate([batch[:, None].astype(np.float32), boxes], axis=1)).cuda()
    expected = torchvision.ops.roi_align(
        torch.from_numpy(x.astype(np.float32)).cuda(), rows, (7, 7), 0.25, ratio, aligned
    )
    attrs = dict(output_height=7, output_width=7, spatial_scale=0.25, sampling_ratio=ratio, mode="avg")
    attrs["coordinate_transformation_mode"] = "half_pixel" if aligned else "output_half_pixel"
    y = poisoned(cp, (1000, 256, 7, 7), dtype)
    ext.onnx_roi_align([cp.asarray(x), cp.asarray(boxes.astype(dtype)), cp.asarray(batch)], [y], attrs)
    cp.cuda.get_current_stream().synchronize()
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), expected.cpu().numpy(), rtol=tol, atol=tol)


def test_roi_align_bf16_empty_and_refusals(ext, cp):
    from trtplug.protolib.dtypes import Bf16Device, to_bfloat16
    from trtplug.protolib.roi_align import RoiAlignParams, roi_align

    rng = np.random.default_rng(17)
    x = to_bfloat16(rng.standard_normal((1, 4, 20, 24)).astype(np.float32))
    boxes, batch = detection_boxes(rng, 5, 1, 20, 1.0)
    rows = to_bfloat16(np.concatenate([batch[:, None].astype(np.float32), boxes], axis=1))
    y = Bf16Device.poisoned(cp, (5, 4, 3, 3))
    attrs = dict(output_height=3, output_width=3, spatial_scale=1.0, sampling_ratio=0, mode="max", aligned=1)
    ext.mmcv_roi_align([Bf16Device.from_host(cp, x), Bf16Device.from_host(cp, rows)], [y], attrs)
    cp.cuda.get_current_stream().synchronize()
    rows32 = rows.astype(np.float32)
    params = RoiAlignParams(3, 3, 1.0, 0, 0.5, "max")
    expected = roi_align(np, x.astype(np.float32), rows32[:, 1:], rows32[:, 0].astype(np.int64), params)
    np.testing.assert_allclose(y.to_host().astype(np.float32), expected, rtol=2e-2, atol=2e-2)
    empty = poisoned(cp, (0, 4, 3, 3), cp.float32)
    ext.mmcv_roi_align([cp.zeros((1, 4, 20, 24), cp.float32), cp.zeros((0, 5), cp.float32)], [empty], attrs)
    with pytest.raises(ValueError, match=r"rois must be \(K, 4\)"):
        ext.onnx_roi_align(
            [cp.zeros((1, 4, 8, 8), cp.float32), cp.zeros((2, 5), cp.float32), cp.zeros(2, cp.int64)],
            [poisoned(cp, (2, 4, 1, 1), cp.float32)],
            {},
        )


@pytest.mark.pluginlib
@pytest.mark.parametrize("name", ["TrtplugRoiAlign", "TrtplugRoiAlignOpset10"])
def test_roi_align_plugin_through_the_host(library, cp, name):
    from trtplug.protolib.roi_align import RoiAlignParams, roi_align

    rng = np.random.default_rng(19)
    x = rng.standard_normal((2, 3, 16, 18)).astype(np.float32)
    boxes, batch = detection_boxes(rng, 6, 2, 16, 0.5)
    fields = {"output_height": 2, "output_width": 3, "spatial_scale": 0.5, "sampling_ratio": 2, "mode": "max"}
    plugin = library.create(name, "1", "trtplug", fields)
    assert plugin is not None
    assert plugin.output_shapes([list(x.shape), list(boxes.shape), list(batch.shape)], None) == [[6, 3, 2, 3]]
    y = poisoned(cp, (6, 3, 2, 3), cp.float32)
    plugin.round_trip().run([cp.asarray(x), cp.asarray(boxes), cp.asarray(batch)], [y])
    offset = 0.5 if name == "TrtplugRoiAlign" else 0.0  # opset 16's default half_pixel; opset 10 none
    expected = roi_align(np, x, boxes, batch, RoiAlignParams(2, 3, 0.5, 2, offset, "max_corner"))
    np.testing.assert_allclose(cp.asnumpy(y), expected, rtol=1e-4, atol=1e-4)
