"""Deformable convolution on a GPU beyond the parity cases (which run the launcher and the plugin
on every spec case): the launcher against torchvision.ops.deform_conv2d on detector-sized maps
(groups, offset groups, mask, bias; fp32/fp16/bf16), the mmcv members against the NumPy
reference, each plugin through the host's workspace path, an empty batch and the refusals.
Outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_deform_conv import GEOMETRIES, mmcv_reference, onnx_deform_conv, random_case

pytestmark = pytest.mark.gpu
TOLERANCE = {"float32": 2e-4, "float16": 1e-2, "bfloat16": 6e-2}


def device(cp, array: np.ndarray, dtype: str):
    from trtplug.protolib.dtypes import Bf16Device, to_bfloat16

    if dtype == "bfloat16":
        return Bf16Device.from_host(cp, to_bfloat16(array.astype(np.float32)))
    return cp.asarray(array.astype(dtype))


def poisoned(cp, shape, dtype: str):
    from trtplug.protolib.dtypes import Bf16Device

    return Bf16Device.poisoned(cp, shape) if dtype == "bfloat16" else cp.full(shape, cp.nan, dtype=dtype)


def host(cp, y, dtype: str) -> np.ndarray:
    out = y.to_host() if dtype == "bfloat16" else cp.asnumpy(y)
    return out.astype(np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(
    ("shape", "out_channels", "group", "offset_group"), [((4, 64, 64, 64), 64, 1, 1), ((2, 32, 37, 45), 48, 2, 4)]
)
def test_launcher_matches_torchvision(ext, cp, dtype, shape, out_channels, group, offset_group):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    gen = torch.Generator(device="cuda").manual_seed(0)
    n, c, h, w = shape
    x = torch.randn(shape, device="cuda", generator=gen)
    weight = 0.1 * torch.randn((out_channels, c // group, 3, 3), device="cuda", generator=gen)
    offset = 2 * torch.randn((n, 18 * offset_group, h, w), device="cuda", generator=gen)
    mask = torch.rand((n, 9 * offset_group, h, w), device="cuda", generator=gen)
    bias = torch.randn((out_channels,), device="cuda", generator=gen)
    rounded = [t.to(getattr(torch, dtype)).float() for t in (x, weight, offset, mask, bias)]
    expected = torchvision.ops.deform_conv2d(
        rounded[0], rounded[2], rounded[1], rounded[4], padding=(1, 1), mask=rounded[3]
    )
    x_, weight_, offset_, mask_, bias_ = rounded
    # ONNX DeformConv's input order: X, W, offset, B, mask.
    inputs = [device(cp, t.cpu().numpy(), dtype) for t in (x_, weight_, offset_, bias_, mask_)]
    y = poisoned(cp, (n, out_channels, h, w), dtype)
    fields = {"pads": [1, 1, 1, 1], "group": group, "offset_group": offset_group}
    ext.onnx_deform_conv(inputs, [y], fields)
    cp.cuda.get_current_stream().synchronize()
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(host(cp, y, dtype), expected.cpu().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_mmcv_members_match_the_numpy_reference(ext, cp, geometry):
    case = random_case(geometry, np.random.default_rng(9))
    attrs = {**case["attrs"], **case["groups"]}
    inputs = {
        "input": case["x"],
        "offset": case["offset"],
        "mask": case["mask"],
        "weight": case["w"],
        "bias": case["b"],
    }
    (expected,) = mmcv_reference().reference(inputs, attrs)
    y = cp.full(expected.shape, cp.nan, dtype=cp.float32)
    ext.mmcv_modulated_deform_conv([cp.asarray(v) for v in inputs.values()], [y], attrs)
    cp.cuda.get_current_stream().synchronize()
    np.testing.assert_allclose(cp.asnumpy(y), expected, rtol=2e-4, atol=2e-4)
    dcnv1 = {"input": case["x"], "offset": case["offset"], "weight": case["w"]}
    (expected,) = mmcv_reference().reference(dcnv1, attrs)
    y.fill(cp.nan)
    ext.mmcv_deform_conv([cp.asarray(v) for v in dcnv1.values()], [y], attrs)
    cp.cuda.get_current_stream().synchronize()
    np.testing.assert_allclose(cp.asnumpy(y), expected, rtol=2e-4, atol=2e-4)


@pytest.mark.pluginlib
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_plugins_through_the_host(library, cp, dtype):
    """Each IPluginV3 plugin, created from fields, round-tripped, with TensorRT's workspace."""
    case = random_case(GEOMETRIES[1], np.random.default_rng(5))
    attrs = {**case["attrs"], **case["groups"]}
    pad = attrs["padding"]
    onnx_fields = {"strides": attrs["stride"], "pads": [*pad, *pad], "dilations": attrs["dilation"]}
    onnx_fields |= {"group": attrs["groups"], "offset_group": attrs["deform_groups"]}
    expected = onnx_deform_conv(case)
    runs = [
        ("TrtplugDeformConv", onnx_fields, ["x", "w", "offset", "b", "mask"]),
        ("TrtplugMMCVModulatedDeformConv2d", attrs, ["x", "offset", "mask", "w", "b"]),
    ]
    for name, fields, order in runs:
        plugin = library.create(name, "1", "trtplug", fields)
        if plugin is None:
            pytest.skip(f"libtrtplug_plugins.so predates {name}: rebuild it")
        shapes = [list(case[k].shape) for k in order]
        assert plugin.output_shapes(shapes, None) == [list(expected.shape)]
        y = cp.full(expected.shape, cp.nan, dtype=dtype)
        plugin.round_trip().run([cp.asarray(case[k].astype(dtype)) for k in order], [y])
        tol = 2e-4 if dtype == "float32" else 3e-2
        np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), expected, rtol=tol, atol=tol)


def test_empty_batch_and_refusals(ext, cp):
    x = cp.zeros((0, 4, 5, 5), dtype=cp.float32)
    w = cp.ones((3, 4, 3, 3), dtype=cp.float32)
    y = cp.full((0, 3, 3, 3), cp.nan, dtype=cp.float32)
    ext.onnx_deform_conv([x, w, cp.zeros((0, 18, 3, 3), dtype=cp.float32), None, None], [y], {})
    x = cp.zeros((1, 4, 5, 5), dtype=cp.float32)
    y = cp.full((1, 3, 3, 3), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="offset must be"):
        ext.onnx_deform_conv([x, w, cp.zeros((1, 16, 3, 3), dtype=cp.float32), None, None], [y], {})
    with pytest.raises(ValueError, match="divide by group"):
        ext.onnx_deform_conv([x, w, cp.zeros((1, 18, 3, 3), dtype=cp.float32), None, None], [y], {"group": 3})
    assert bool(cp.isnan(y).all())
