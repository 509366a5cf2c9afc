"""The rewrite refuses a node whose attribute breaks its spec's value rule (choices, per-element
bounds, list lengths, axis ranges): the node is left alone with the rule's reason, exit 0."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from trtplug.graph_rewrites import changes, pipeline

from tests.rewrite_models import const, io, model
from trtplug.cli import main
from trtplug.registry import load_registry


def rewrite(original: onnx.ModelProto):
    """(rewritten copy, result) through the Python API, without the rewritten-model checks: a
    refused node may be invalid ONNX (Unique's axis 7 fails ONNX shape inference)."""
    rewritten = copy.deepcopy(original)
    result = pipeline.rewrite_model(rewritten, load_registry(), pipeline.RewriteOptions(changes.Selection((), ())))
    return rewritten, result


def col2im(**attrs) -> onnx.ModelProto:
    node = helper.make_node("Col2Im", ["x", "image", "block"], ["y"], name="fold", **attrs)
    inits = [const("image", [4, 4], np.int64), const("block", [2, 2], np.int64)]
    return model([node], [io("x", shape=(1, 4, 9))], [io("y", shape=(1, 1, 4, 4))], inits, opset=18, extra_opsets=())


def unique(shape, **attrs) -> onnx.ModelProto:
    """Unique on `x` of `shape`; None: a model whose input rank shape inference cannot know."""
    node = helper.make_node("Unique", ["x"], ["y"], name="uniq", **attrs)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["u"] * len(shape or [0]))
    graph = helper.make_graph([node], "test", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=9)


def scatter(reduction: str) -> onnx.ModelProto:
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], name="scat", reduction=reduction)
    inputs = [io("d", shape=(4, 3)), io("i", TensorProto.INT64, (2, 3)), io("u", shape=(2, 3))]
    return model([node], inputs, [io("y", shape=(4, 3))], opset=18, extra_opsets=())


def max_pool(**attrs) -> onnx.ModelProto:
    node = helper.make_node("MaxPool", ["x"], ["y", "idx"], name="pool", **attrs)
    outputs = [io("y", shape=("n", "c", "h", "w")), io("idx", TensorProto.INT64, ("n", "c", "h", "w"))]
    return model([node], [io("x", shape=(1, 1, 6, 6))], outputs, opset=12, extra_opsets=())


def center_crop_pad(axes: list[int]) -> onnx.ModelProto:
    node = helper.make_node("CenterCropPad", ["x", "shape"], ["y"], name="crop", axes=axes)
    inits = [const("shape", [2] * len(axes), np.int64)]
    return model([node], [io("x", shape=(4, 4, 4))], [io("y", shape=("a", "b", "c"))], inits, opset=18, extra_opsets=())


CASES = [
    ("col2im_negative_stride", col2im(strides=[-1, 1]), "attribute 'strides': element 0 (-1) is below the minimum 1"),
    ("col2im_negative_pad", col2im(pads=[0, -2, 0, 0]), "attribute 'pads': element 1 (-2) is below the minimum 0"),
    ("unique_axis_7_on_2d", unique((3, 4), axis=7), "attribute 'axis': axis 7 is out of range for 'X' of rank 2"),
    ("unique_sorted_2", unique((3, 4), sorted=2), "attribute 'sorted': 2 is not one of 0, 1"),
    ("scatter_reduction", scatter("sum"), "attribute 'reduction': 'sum' is not one of 'none', 'add'"),
    ("pool_kernel_4d", max_pool(kernel_shape=[2, 2, 2, 2]), "attribute 'kernel_shape': 4 elements, at most 3"),
    ("crop_axes", center_crop_pad([0, 3]), "attribute 'axes': element 1: axis 3 is out of range for 'input_data'"),
    ("pool_auto_pad", max_pool(kernel_shape=[2, 2], auto_pad="SAME"), "attribute 'auto_pad': 'SAME' is not one of"),
    (
        "pool_strides_length",
        max_pool(kernel_shape=[2, 2], strides=[2]),
        "attribute 'strides': 1 elements, 1 per 'kernel_shape' element (2) or none needed",
    ),
    ("pool_pads_length", max_pool(kernel_shape=[2, 2], pads=[1, 1]), "attribute 'pads': 2 elements, 2 per"),
]


@pytest.mark.parametrize(("original", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_python_api_leaves_the_node_with_the_rule(original: onnx.ModelProto, reason: str) -> None:
    rewritten, result = rewrite(original)
    assert rewritten == original
    assert result.changes[0].action == "left" and reason in result.changes[0].reason


@pytest.mark.parametrize(("original", "reason"), [c[1:] for c in CASES[:3]], ids=[c[0] for c in CASES[:3]])
def test_cli_reports_the_rule_and_replaces_nothing(
    original: onnx.ModelProto, reason: str, tmp_path: Path, capsys
) -> None:
    path, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(original, path)
    before = path.read_bytes()
    assert main(["rewrite", str(path), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0 replaced" in text and reason in text
    assert path.read_bytes() == before


def test_axis_of_is_skipped_when_the_rank_is_unknown() -> None:
    original = unique(None, axis=7)
    rewritten, result = rewrite(original)
    assert [n.op_type for n in rewritten.graph.node] == ["TrtplugUnique"], result.changes[0].reason


@pytest.mark.parametrize(
    "original",
    [
        col2im(strides=[2, 1], pads=[1, 0, 1, 0]),
        unique((3, 4), axis=-2, sorted=0),
        scatter("max"),
        center_crop_pad([0, -1]),
        max_pool(kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0]),
    ],
    ids=["col2im", "unique", "scatter", "center_crop_pad", "max_pool"],
)
def test_values_within_the_rules_are_replaced(original: onnx.ModelProto) -> None:
    rewritten, result = rewrite(original)
    assert result.changes[0].action == "replaced", result.changes[0].reason
    assert rewritten.graph.node[0].op_type.startswith("Trtplug")
