"""Antialiased Resize on a GPU beyond the parity cases (which run the launcher and the plugin on
every spec and conformance case): torchvision-sized images against torch's
F.interpolate(antialias=True), three resized axes (both scratch buffers), the plugin through the
host's workspace path, an empty batch and the binding's refusals. Outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

pytestmark = pytest.mark.gpu

# F.interpolate(antialias=True) weighs only in-range taps (exclude_outside) and its antialiased
# bicubic uses a = -0.5 (as PIL): these ONNX attributes describe the same function.
TORCH_AA = {
    "antialias": 1,
    "coordinate_transformation_mode": "pytorch_half_pixel",
    "exclude_outside": 1,
    "cubic_coeff_a": -0.5,
}
TOLERANCE = {"float32": 1e-4, "float16": 4e-3}


def onnx_reference(x: np.ndarray, fields: dict) -> np.ndarray:
    """onnx.reference's Resize of x (float32), its roi and scales or sizes given as the node's inputs."""
    from onnx.reference import ReferenceEvaluator

    feeds = {"x": x.astype(np.float32)}
    roi = "roi" if fields.get("roi") else ""
    if roi:
        feeds["roi"] = np.array(fields["roi"], np.float32)
    if fields.get("scales"):
        names, feeds["scales"] = ["x", roi, "scales"], np.array(fields["scales"], np.float32)
    else:
        names, feeds["sizes"] = ["x", roi, "", "sizes"], np.array(fields["sizes"], np.int64)
    attrs = {k: v for k, v in fields.items() if k not in ("scales", "sizes", "roi")}
    node = helper.make_node("Resize", names, ["y"], **attrs)
    inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), feeds[n].shape) for n in feeds
    ]
    graph = helper.make_graph([node], "r", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    return ReferenceEvaluator(model).run(None, feeds)[0]


def resize(ext, cp, x, fields: dict, out_shape):
    y = cp.full(out_shape, cp.nan, dtype=x.dtype)
    ext.resize_antialias([x], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    return y


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize(
    ("shape", "size"), [((8, 3, 1024, 1024), (224, 224)), ((2, 3, 2160, 3840), (512, 910)), ((1, 3, 97, 61), (200, 13))]
)
def test_launcher_matches_torch_interpolate(ext, cp, dtype, mode, shape, size):
    torch = pytest.importorskip("torch")
    x = torch.randn(shape, device="cuda").to(getattr(torch, dtype))
    torch_mode = "bilinear" if mode == "linear" else "bicubic"
    expected = torch.nn.functional.interpolate(
        x.float(), size=size, mode=torch_mode, antialias=True, align_corners=False
    )
    fields = {**TORCH_AA, "mode": mode, "axes": [2, 3], "sizes": list(size)}
    y = resize(ext, cp, cp.asarray(x), fields, (*shape[:2], *size))
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), expected.cpu().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_three_resized_axes_use_both_scratch_buffers(ext, cp, mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 19, 23, 17)).astype(np.float32)
    fields = {"antialias": 1, "mode": mode, "scales": [1.0, 1.0, 0.4, 1.5, 0.6], "exclude_outside": 0}
    expected = onnx_reference(x, fields)
    y = resize(ext, cp, cp.asarray(x), fields, expected.shape)
    np.testing.assert_allclose(cp.asnumpy(y), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.pluginlib
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_plugin_through_the_host(library, cp, dtype):
    """The IPluginV3 plugin, created from fields, round-tripped, with TensorRT's workspace."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 45, 38)).astype(dtype)
    fields = {
        "antialias": 1,
        "mode": "cubic",
        "axes": [2, 3],
        "sizes": [17, 29],
        "coordinate_transformation_mode": "half_pixel",
    }
    plugin = library.create("TrtplugResizeAntialias", "1", "trtplug", fields)
    if plugin is None:
        pytest.skip("libtrtplug_plugins.so predates TrtplugResizeAntialias: rebuild it")
    assert plugin.output_shapes([list(x.shape)], None) == [[2, 3, 17, 29]]
    y = cp.full((2, 3, 17, 29), cp.nan, dtype=dtype)
    plugin.round_trip().run([cp.asarray(x)], [y])
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), onnx_reference(x, fields), rtol=tol, atol=tol)


def test_empty_batch_and_identity(ext, cp):
    x = cp.zeros((0, 3, 16, 16), dtype=cp.float32)
    y = resize(ext, cp, x, {"antialias": 1, "mode": "linear", "scales": [1.0, 1.0, 0.5, 0.5]}, (0, 3, 8, 8))
    assert y.shape == (0, 3, 8, 8)
    x = cp.arange(24, dtype=cp.float32).reshape(2, 3, 4)  # every axis kept: a copy
    y = resize(ext, cp, x, {"antialias": 1, "mode": "cubic", "sizes": [2, 3, 4]}, (2, 3, 4))
    assert bool((y == x).all())


def test_binding_refuses_what_the_plan_does_not_allow(ext, cp):
    x = cp.zeros((1, 3, 16, 16), dtype=cp.float32)
    y = cp.full((1, 3, 8, 9), cp.nan, dtype=cp.float32)
    base = {"antialias": 1, "mode": "linear"}
    with pytest.raises(ValueError, match=r"Y must have shape \(1, 3, 8, 8\)"):
        ext.resize_antialias([x], [y], {**base, "scales": [1.0, 1.0, 0.5, 0.5]})
    with pytest.raises(ValueError, match="exactly one of scales and sizes"):
        ext.resize_antialias([x], [y], base)
    with pytest.raises(ValueError, match="attribute 'antialias'"):
        ext.resize_antialias([x], [y], {**base, "antialias": 0, "sizes": [1, 3, 8, 9]})
    with pytest.raises(ValueError, match="attribute 'mode'"):
        ext.resize_antialias([x], [y], {"antialias": 1, "mode": "nearest", "sizes": [1, 3, 8, 9]})
    assert bool(cp.isnan(y).all())


def test_launcher_in_bfloat16(ext, cp):
    """bf16 in and out (a Bf16Device, as the binding takes it), float32 inside."""
    from trtplug.protolib.dtypes import Bf16Device, to_bfloat16

    rng = np.random.default_rng(11)
    x = to_bfloat16(rng.standard_normal((2, 3, 64, 48)).astype(np.float32))
    fields = {"antialias": 1, "mode": "cubic", "axes": [2, 3], "sizes": [20, 17]}
    y = Bf16Device.poisoned(cp, (2, 3, 20, 17))
    ext.resize_antialias([Bf16Device.from_host(cp, x)], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    expected = onnx_reference(x.astype(np.float32), fields)
    np.testing.assert_allclose(y.to_host().astype(np.float32), expected, rtol=1e-2, atol=1e-2)
