"""Deformable convolution beyond the parity cases: the mmcv NumPy reference against onnx.reference's
DeformConv where the semantics coincide, the prototype against both, the rewrite per TensorRT
target (TensorRT >= 10.1 imports ai.onnx DeformConv through its plugin library in fp32/fp16;
TensorRT-RTX and bf16 are replaced; mmcv's ops always), and a torchvision DeformConv2d block
(offsets and mask from Convs) rewritten and compared at model level."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from trtplug.cli import main
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry

REFERENCE_PATH = Path(__file__).parent.parent / "plugins" / "deform_conv" / "reference.py"
# (channels, out_channels, kernel, stride, pad, dilation, group, offset_group, image)
GEOMETRIES = [
    (3, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, 1, (6, 7)),
    (4, 6, (3, 2), (2, 1), (0, 1), (1, 2), 2, 2, (9, 8)),
    (6, 3, (1, 1), (1, 1), (0, 0), (1, 1), 3, 1, (5, 5)),
    (4, 4, (2, 3), (1, 2), (2, 1), (2, 1), 1, 4, (7, 5)),
]


def mmcv_reference():
    spec = importlib.util.spec_from_file_location("deform_conv_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_case(geometry, rng: np.random.Generator, batch: int = 2) -> dict:
    channels, out_channels, kernel, stride, pad, dilation, group, offset_group, image = geometry
    out = [(image[d] + 2 * pad[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1 for d in range(2)]
    points = kernel[0] * kernel[1]
    return {
        "x": rng.normal(size=(batch, channels, *image)).astype(np.float32),
        "w": (0.3 * rng.normal(size=(out_channels, channels // group, *kernel))).astype(np.float32),
        # offsets up to a few pixels: samples land between pixels and outside the image
        "offset": (2.5 * rng.normal(size=(batch, 2 * offset_group * points, *out))).astype(np.float32),
        "mask": rng.uniform(size=(batch, offset_group * points, *out)).astype(np.float32),
        "b": rng.normal(size=(out_channels,)).astype(np.float32),
        "attrs": {"stride": list(stride), "padding": list(pad), "dilation": list(dilation)},
        "groups": {"groups": group, "deform_groups": offset_group},
    }


def onnx_deform_conv(case: dict, with_mask: bool = True) -> np.ndarray:
    """onnx.reference's DeformConv (the ONNX definition) on the case."""
    kernel = list(case["w"].shape[2:])
    pad = case["attrs"]["padding"]
    node = helper.make_node(
        "DeformConv",
        ["X", "W", "offset", "B", "mask" if with_mask else ""],
        ["Y"],
        dilations=case["attrs"]["dilation"],
        group=case["groups"]["groups"],
        kernel_shape=kernel,
        offset_group=case["groups"]["deform_groups"],
        pads=[*pad, *pad],
        strides=case["attrs"]["stride"],
    )
    feeds = {"X": case["x"], "W": case["w"], "offset": case["offset"], "B": case["b"]}
    if with_mask:
        feeds["mask"] = case["mask"]
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, None) for k in feeds],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return ReferenceEvaluator(model).run(None, feeds)[0]


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("with_mask", [True, False])
def test_mmcv_reference_is_onnx_deform_conv(geometry, with_mask: bool) -> None:
    """mmcv's (dy, dx) layout per kernel point per deform group is ONNX's offset layout."""
    case = random_case(geometry, np.random.default_rng(len(geometry[7:]) + geometry[0]))
    inputs = {"input": case["x"], "offset": case["offset"], "weight": case["w"], "bias": case["b"]}
    if with_mask:
        inputs["mask"] = case["mask"]
    (mine,) = mmcv_reference().reference(inputs, {**case["attrs"], **case["groups"]})
    np.testing.assert_allclose(mine, onnx_deform_conv(case, with_mask), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_prototype_members_agree_with_the_references(geometry) -> None:
    case = random_case(geometry, np.random.default_rng(7))
    ops = load_registry().ops
    out = np.full(onnx_deform_conv(case).shape, np.nan, np.float32)
    attrs = {**case["attrs"], **case["groups"]}
    pyplugin_module(ops["mmcv_modulated_deform_conv"]).forward(
        np, [case["x"], case["offset"], case["mask"], case["w"], case["b"]], [out], attrs
    )
    np.testing.assert_allclose(out, onnx_deform_conv(case), rtol=1e-4, atol=1e-4)
    onnx_out = np.full_like(out, np.nan)
    pad = case["attrs"]["padding"]
    onnx_attrs = {"strides": attrs["stride"], "pads": [*pad, *pad], "dilations": attrs["dilation"]}
    onnx_attrs |= {"group": attrs["groups"], "offset_group": attrs["deform_groups"], "kernel_shape": []}
    pyplugin_module(ops["onnx_deform_conv"]).forward(
        np, [case["x"], case["w"], case["offset"], case["b"], case["mask"]], [onnx_out], onnx_attrs
    )
    np.testing.assert_array_equal(onnx_out, out)


def deform_block_model(dtype: int = TensorProto.FLOAT, batch: object = "N", bias: bool = True) -> onnx.ModelProto:
    """A torchvision DCNv2 block as exported (opset 19): offsets and the mask logits from 3x3 Convs
    of the input, Sigmoid on the mask, then DeformConv(X, W, offset, B, mask) with pads on both sides."""
    rng = np.random.default_rng(3)
    np_type = onnx.helper.tensor_dtype_to_np_dtype(dtype)
    weights = {
        "offset_w": 0.2 * rng.normal(size=(18, 4, 3, 3)),
        "mask_w": 0.2 * rng.normal(size=(9, 4, 3, 3)),
        "dcn_w": 0.3 * rng.normal(size=(8, 4, 3, 3)),
        "dcn_b": rng.normal(size=(8,)),
    }
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Conv", ["x", "offset_w"], ["offset"], name="offset_conv", **conv),
        helper.make_node("Conv", ["x", "mask_w"], ["mask_logits"], name="mask_conv", **conv),
        helper.make_node("Sigmoid", ["mask_logits"], ["mask"]),
        helper.make_node(
            "DeformConv",
            ["x", "dcn_w", "offset", "dcn_b" if bias else "", "mask"],
            ["y"],
            name="dcn",
            dilations=[1, 1],
            group=1,
            offset_group=1,
            strides=[1, 1],
            **conv,
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "dcn_block",
        [helper.make_tensor_value_info("x", dtype, [batch, 4, 12, 10])],
        [helper.make_tensor_value_info("y", dtype, [batch, 8, 12, 10])],
        [numpy_helper.from_array(v.astype(np_type), k) for k, v in weights.items() if bias or k != "dcn_b"],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)


def mmcv_model() -> onnx.ModelProto:
    """MMCVModulatedDeformConv2d and MMCVDeformConv2d as mmcv's symbolics write them."""
    shape = [1, 4, 8, 8]
    nodes = [
        helper.make_node(
            "MMCVModulatedDeformConv2d",
            ["x", "offset", "mask", "w"],
            ["y2"],
            name="dcnv2",
            domain="mmcv",
            stride=[1, 1],
            padding=[1, 1],
            dilation=[1, 1],
            groups=1,
            deform_groups=1,
        ),
        helper.make_node(
            "MMCVDeformConv2d",
            ["x", "offset", "w"],
            ["y1"],
            name="dcnv1",
            domain="mmcv",
            stride=[1, 1],
            padding=[1, 1],
            dilation=[1, 1],
            groups=1,
            deform_groups=1,
            bias=0,
            im2col_step=32,
        ),
    ]
    inputs = {"x": shape, "offset": [1, 18, 8, 8], "mask": [1, 9, 8, 8], "w": [4, 4, 3, 3]}
    graph = helper.make_graph(
        nodes,
        "mmcv",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("y1", "y2")],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("mmcv", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


def rewrite_report(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {n["node"]: n for n in report["changes"]}, onnx.load(out)


@pytest.mark.parametrize("target", ["10.1", "10.16", "11.5"])
def test_tensorrt_with_its_plugin_library_keeps_deform_conv(tmp_path: Path, capsys, target: str) -> None:
    nodes, rewritten = rewrite_report(tmp_path, deform_block_model(), capsys, "--trt-version", target)
    assert nodes["dcn"]["action"] == "left" and "libnvinfer_plugin" in nodes["dcn"]["reason"]
    assert "DeformConv" in [n.op_type for n in rewritten.graph.node]


@pytest.mark.parametrize(("target", "dtype"), [("10.0", TensorProto.FLOAT), ("10.16", TensorProto.BFLOAT16)])
def test_deform_conv_replaced_where_tensorrt_rejects_it(tmp_path: Path, capsys, target: str, dtype: int) -> None:
    """Before 10.1 there is no importer; bf16 is outside the plugin library's fp32/fp16."""
    nodes, rewritten = rewrite_report(tmp_path, deform_block_model(dtype), capsys, "--trt-version", target)
    assert nodes["dcn"]["action"] == "replaced"
    by_name = {n.name: n for n in rewritten.graph.node}
    assert by_name["dcn"].op_type == "TrtplugDeformConv"
    assert list(by_name["dcn"].input) == ["x", "dcn_w", "offset", "dcn_b", "mask"]


@pytest.mark.skipif(importlib.util.find_spec("tensorrt_rtx") is None, reason="tensorrt-rtx is not installed")
def test_tensorrt_rtx_parser_target_replaces_deform_conv(tmp_path: Path, capsys) -> None:
    nodes, _ = rewrite_report(tmp_path, deform_block_model(), capsys, "--backend", "tensorrt_rtx")
    assert nodes["dcn"]["action"] == "replaced"


@pytest.mark.parametrize("target", ["10.16", "11.5"])
def test_mmcv_ops_always_replaced(tmp_path: Path, capsys, target: str) -> None:
    nodes, rewritten = rewrite_report(tmp_path, mmcv_model(), capsys, "--trt-version", target)
    assert nodes["dcnv2"]["action"] == "replaced" and nodes["dcnv1"]["action"] == "replaced"
    by_name = {n.name: n for n in rewritten.graph.node}
    assert by_name["dcnv2"].op_type == "TrtplugMMCVModulatedDeformConv2d"
    assert by_name["dcnv1"].op_type == "TrtplugMMCVDeformConv2d"
    fields = {a.name: helper.get_attribute_value(a) for a in by_name["dcnv1"].attribute}
    assert fields["padding"] == [1, 1] and fields["deform_groups"] == 1


@pytest.mark.parametrize("bias", [True, False])
def test_deform_block_rewritten_and_compared(tmp_path: Path, capsys, bias: bool) -> None:
    """The torchvision block rewritten with every covered node replaced, then ONNX Runtime on the
    original against the plugin node's prototype between ONNX Runtime's Convs (without a bias,
    the rewrite passes an empty placeholder before the mask)."""
    pytest.importorskip("onnxruntime")
    nodes, rewritten = rewrite_report(tmp_path, deform_block_model(bias=bias), capsys, "--all-covered")
    assert nodes["dcn"]["action"] == "replaced"
    onnx.checker.check_model(rewritten, full_check=True)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=2", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugDeformConv"]
