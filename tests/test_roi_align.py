"""RoiAlign beyond the parity cases: the rewrite per target (TensorRT imports it through its
plugin library, TensorRT-RTX, the default target, rejects it; opset 10-15 nodes go to the
output_half_pixel member; mmcv's op everywhere), a detection RoI head (boxes from a small
subgraph) rewritten and compared with ONNX Runtime at model level, ONNX's max against mmcv's,
ONNX Runtime against onnx.reference, and the mmcv prototype against its NumPy reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.grid_roi_models import roi_align_head
from trtplug.cli import main
from trtplug.parity.impl_base import pyplugin_module
from trtplug.parity.reference import _numpy_reference_module, numpy_reference_path
from trtplug.parity.roi_inputs import roi_align_regions
from trtplug.protolib.roi_align import RoiAlignParams, roi_align
from trtplug.registry import load_registry


def rewrite_report(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {n["node"]: n for n in report["changes"]}, onnx.load(out)


@pytest.mark.parametrize(("opset", "plugin"), [(16, "TrtplugRoiAlign"), (13, "TrtplugRoiAlignOpset10")])
def test_default_target_tensorrt_rtx_gets_the_plugin(tmp_path: Path, capsys, opset: int, plugin: str) -> None:
    pytest.importorskip("tensorrt_rtx", reason="the default target is TensorRT-RTX's parser here")
    nodes, rewritten = rewrite_report(tmp_path, roi_align_head(opset=opset), capsys)
    assert nodes["roi_align"]["action"] == "replaced"
    (node,) = [n for n in rewritten.graph.node if n.name == "roi_align"]
    assert node.op_type == plugin
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["output_height"] == 7 and fields["spatial_scale"] == pytest.approx(0.25)
    if opset == 16:
        assert fields["coordinate_transformation_mode"] == b"half_pixel"  # opset 16's default
    else:
        assert "coordinate_transformation_mode" not in fields  # opset 10's fixed output_half_pixel


@pytest.mark.parametrize("target", ["10.8", "11.5"])
def test_tensorrt_with_its_plugin_library_keeps_the_node(tmp_path: Path, capsys, target: str) -> None:
    nodes, rewritten = rewrite_report(tmp_path, roi_align_head(), capsys, "--trt-version", target)
    assert nodes["roi_align"]["action"] == "left"
    assert "libnvinfer_plugin" in nodes["roi_align"]["reason"]
    assert "RoiAlign" in [n.op_type for n in rewritten.graph.node]


@pytest.mark.parametrize(
    ("opset", "attrs"),
    [
        (16, {}),
        (16, {"mode": "max", "coordinate_transformation_mode": "output_half_pixel"}),
        (16, {"sampling_ratio": 0}),
        (13, {"mode": "max"}),
    ],
)
def test_roi_head_rewritten_and_compared_at_model_level(tmp_path: Path, capsys, opset: int, attrs: dict) -> None:
    """The RoI head rewritten for TensorRT-RTX, then ONNX Runtime on the original against the
    plugin node's prototype between ONNX Runtime's Clip/Shape/.../MatMul."""
    nodes, rewritten = rewrite_report(tmp_path, roi_align_head(opset=opset, **attrs), capsys, "--all-covered")
    assert nodes["roi_align"]["action"] == "replaced"
    onnx.checker.check_model(rewritten, full_check=True)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    feeds = tmp_path / "feeds.npz"
    rng = np.random.default_rng(5)
    centres = rng.uniform(-8, 136, (12, 2))
    sizes = rng.uniform(2, 90, (12, 2))
    proposals = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1).astype(np.float32)
    features = rng.standard_normal((1, 8, 32, 32)).astype(np.float32)
    np.savez(feeds, features=features, proposals=proposals)
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass"


def test_model_parity_catches_a_wrong_plugin(tmp_path: Path, capsys, monkeypatch) -> None:
    rewrite_report(tmp_path, roi_align_head(), capsys, "--all-covered")
    module = pyplugin_module(load_registry().get("onnx_roi_align"))
    real = module.forward

    def unshifted(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, {**attrs, "coordinate_transformation_mode": "output_half_pixel"})

    monkeypatch.setattr(module, "forward", unshifted)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "K=9"]) != 0


def mmcv_model(**attrs) -> onnx.ModelProto:
    node = helper.make_node("MMCVRoiAlign", ["x", "rois"], ["y"], name="mmcv_roi", domain="mmcv", **attrs)
    graph = helper.make_graph(
        [node],
        "mmcv",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 16, 16]),
            helper.make_tensor_value_info("rois", TensorProto.FLOAT, ["K", 5]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["K", 4, 7, 7])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("mmcv", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


@pytest.mark.parametrize("target", ["10.8", "11.5", None])
def test_mmcv_roi_align_is_replaced_for_every_target(tmp_path: Path, capsys, target) -> None:
    """mmcv's symbolic writes mode as a string and aligned as an int."""
    attrs = dict(output_height=7, output_width=7, spatial_scale=0.5, sampling_ratio=0, mode="max", aligned=0)
    nodes, rewritten = rewrite_report(
        tmp_path, mmcv_model(**attrs), capsys, *(["--trt-version", target] if target else [])
    )
    assert nodes["mmcv_roi"]["action"] == "replaced"
    (node,) = rewritten.graph.node
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert node.op_type == "TrtplugMmcvRoiAlign" and fields["mode"] == b"max" and fields["aligned"] == 0


def test_onnx_max_is_the_largest_corner_term_mmcv_the_largest_sample() -> None:
    """One sample between two pixels 1 and 3 (weights 1/2): mmcv's max is the sample, 2; ONNX's
    (onnx.reference, ONNX Runtime) the largest weighted corner term, 1.5."""
    x = np.array([1.0, 3.0], np.float32).reshape(1, 1, 1, 2)
    boxes, batch = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32), np.zeros(1, np.int64)
    onnx_max = RoiAlignParams(1, 1, 1.0, 1, 0.0, "max_corner")
    mmcv_max = RoiAlignParams(1, 1, 1.0, 1, 0.0, "max")
    assert roi_align(np, x, boxes, batch, onnx_max).item() == pytest.approx(1.5)
    assert roi_align(np, x, boxes, batch, mmcv_max).item() == pytest.approx(2.0)


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("ratio", [0, 1, 3])
def test_onnxruntime_agrees_with_onnx_reference(mode: str, ratio: int) -> None:
    """ONNX Runtime's CPU kernel (which warns that its max mode 'is incorrect') computes what
    onnx.reference computes, corner-term max included; the prototype follows both."""
    ort = pytest.importorskip("onnxruntime")
    spec = load_registry().get("onnx_roi_align")
    attrs = dict(mode=mode, output_height=3, output_width=4, sampling_ratio=ratio, spatial_scale=0.5)
    shapes = {"X": (2, 3, 12, 15), "rois": (10, 4), "batch_indices": (10,)}
    inputs = roi_align_regions(shapes, attrs, np.random.default_rng(ratio))
    inputs["X"] = np.random.default_rng(9).standard_normal(shapes["X"]).astype(np.float32)
    node = helper.make_node("RoiAlign", ["X", "rois", "batch_indices"], ["Y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), None) for n, v in inputs.items()],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)], ir_version=9)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    expected = session.run(None, inputs)[0]
    y = np.empty_like(expected)
    pyplugin_module(spec).forward(np, [inputs["X"], inputs["rois"], inputs["batch_indices"]], [y], attrs)
    np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("trial", range(4))
def test_mmcv_prototype_matches_the_numpy_reference(trial: int) -> None:
    rng = np.random.default_rng(200 + trial)
    spec = load_registry().get("mmcv_roi_align")
    reference = _numpy_reference_module(numpy_reference_path(spec)).reference
    shapes = {"X": (2, 3, int(rng.integers(1, 20)), int(rng.integers(1, 20))), "rois": (int(rng.integers(0, 9)), 5)}
    attrs = dict(output_height=int(rng.integers(1, 5)), output_width=int(rng.integers(1, 5)), spatial_scale=0.5)
    attrs |= dict(sampling_ratio=trial % 3, mode=("avg", "max")[trial % 2], aligned=trial // 2)
    rois = roi_align_regions(shapes, attrs, rng)["rois"]
    x = rng.standard_normal(shapes["X"]).astype(np.float32)
    (expected,) = reference({"X": x, "rois": rois}, attrs)
    y = np.empty(expected.shape, np.float32)
    pyplugin_module(spec).forward(np, [x, rois], [y], attrs)
    np.testing.assert_allclose(y, expected, atol=2e-5, rtol=1e-5)
