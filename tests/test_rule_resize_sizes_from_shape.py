"""graph_rewrites/resize_sizes_from_shape.py: an antialiased Resize whose sizes are
Concat(Shape(x)[:k], tail), as torch.onnx exports F.interpolate(size=..., antialias=True) with a
dynamic batch, becomes the plugin with axes [k, ...] and the constant tail as its sizes; the
model-level comparison holds; plain Resize nodes and non-prefix shapes are left alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main


def dynamic_batch_model(
    prefix: str = "shape_end", antialias: int = 1, of: str = "image", **resize_attrs
) -> onnx.ModelProto:
    inits = [
        numpy_helper.from_array(np.array([56, 40], np.int64), "tail"),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([2], np.int64), "two"),
    ]
    if prefix == "slice":
        nodes = [
            helper.make_node("Shape", ["image"], ["shape"]),
            helper.make_node("Slice", ["shape", "zero", "two"], ["lead"]),
        ]
    else:
        nodes = [helper.make_node("Shape", [of], ["lead"], start=0, end=2)]
    attrs = {
        "mode": "linear",
        "antialias": antialias,
        "coordinate_transformation_mode": "pytorch_half_pixel",
        **resize_attrs,
    }
    nodes += [
        helper.make_node("Concat", ["lead", "tail"], ["sizes"], axis=0),
        helper.make_node("Resize", ["image", "", "", "sizes"], ["out"], name="resize", **attrs),
    ]
    graph = helper.make_graph(
        nodes,
        "dynamic_batch",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 3, 150, 100]) for n in ("image", "other")],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3, 56, 40])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def rewrite(tmp_path: Path, model: onnx.ModelProto, capsys) -> tuple[list[dict], onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--trt-version", "11.5", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["changes"], onnx.load(out)


@pytest.mark.parametrize("prefix", ["shape_end", "slice"])
def test_dynamic_batch_sizes_become_axes_and_constant_sizes(tmp_path: Path, capsys, prefix: str) -> None:
    (change,), rewritten = rewrite(tmp_path, dynamic_batch_model(prefix), capsys)
    assert change["action"] == "fused" and change["rule"] == "resize_sizes_from_shape"
    (node,) = rewritten.graph.node
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert node.op_type == "TrtplugResizeAntialias" and list(node.input) == ["image"]
    assert fields["axes"] == [2, 3] and fields["sizes"] == [56, 40]
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=3"]) == 0


def test_plain_resize_is_not_touched(tmp_path: Path, capsys) -> None:
    (change,), rewritten = rewrite(tmp_path, dynamic_batch_model(antialias=0), capsys)
    assert change["action"] == "left" and "imports it natively" in change["reason"] and not change["rule"]
    assert [n.op_type for n in rewritten.graph.node] == ["Shape", "Concat", "Resize"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [({"of": "other"}, "'sizes' (sizes) is not a constant"), ({"axes": [0, 1, 2, 3]}, "already has axes")],
)
def test_other_sizes_are_left_with_the_reason(tmp_path: Path, capsys, kwargs: dict, reason: str) -> None:
    changes, rewritten = rewrite(tmp_path, dynamic_batch_model(**kwargs), capsys)
    assert all(c["action"] == "left" for c in changes) and any(reason in c["reason"] for c in changes)
    assert [n.op_type for n in rewritten.graph.node] == ["Shape", "Concat", "Resize"]
