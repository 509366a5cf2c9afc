"""Node -> plugin node: what TensorRT's plugin importer needs (name, version, namespace, fields by
its conversion rules), folded constant inputs, shape inputs, outputs, names, value_info, and
the reasons a covered node is left alone. Numerics through model-level parity."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.rewrite_models import (
    F16,
    FIXTURE_PLUGINS,
    assert_parity,
    const,
    fixture_registry,
    io,
    model,
    op_types,
    rewrite,
)
from trtplug.registry import load_registry

THING = ("com.example", 1)


def fields(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def thing_model(*attrs: onnx.AttributeProto, inputs=("x",), outputs=("y",), elem=TensorProto.FLOAT, inits=()):
    node = helper.make_node("Thing", list(inputs), list(outputs), domain="com.example", name="thing")
    node.attribute.extend(attrs)
    graph_inputs = [io("x", elem)] + ([io("shape", TensorProto.INT64, (3,))] if "shape" in inputs else [])
    graph_outputs = [io(o) for o in outputs if o]
    return model([node], graph_inputs, graph_outputs, inits, extra_opsets=(THING,))


def rewrite_thing(m: onnx.ModelProto):
    rewritten, result = rewrite(m, fixture_registry("test_thing"))
    return rewritten.graph.node[0], result.changes[0], rewritten


def test_fast_gelu_node_becomes_plugin_node(seed: int) -> None:
    nodes = [
        helper.make_node("FastGelu", ["x", "b"], ["h"], domain="com.microsoft", name="ffn_gelu"),
        helper.make_node("FastGelu", ["h"], ["y"], domain="com.microsoft", name="head_gelu"),
    ]
    original = model(nodes, [io("x")], [io("y")], [const("b", np.linspace(-1, 1, 16))])
    registry = load_registry()
    rewritten, result = rewrite(original, registry)
    assert op_types(rewritten) == ["TrtplugFastGelu", "TrtplugFastGelu"]
    first = rewritten.graph.node[0]
    assert first.name == "ffn_gelu" and list(first.input) == ["x", "b"] and list(first.output) == ["h"]
    assert first.domain == "trtplug" and fields(first) == {"plugin_version": b"1", "plugin_namespace": b"trtplug"}
    assert ("trtplug", 1) in {(o.domain, o.version) for o in rewritten.opset_import}
    [h] = [v for v in rewritten.graph.value_info if v.name == "h"]
    assert h.type.tensor_type.elem_type == TensorProto.FLOAT
    assert [d.dim_param or d.dim_value for d in h.type.tensor_type.shape.dim] == ["batch", "seq", 16]
    assert [c.action for c in result.changes] == ["replaced", "replaced"]
    assert_parity(original, rewritten, registry, seed)


def test_defaults_fill_every_field_in_parser_types() -> None:
    node, change, _ = rewrite_thing(thing_model(helper.make_attribute("count", 7)))
    assert node.op_type == "TrtplugTestThing" and node.domain == "trtplug_test"
    got = fields(node)
    assert got == {
        "alpha": 1.0,
        "count": 7,
        "axes": [],
        "mode": b"linear",
        "scales": [1.0],
        "num_outputs": 1,
        "plugin_version": b"2",
        "plugin_namespace": b"trtplug_test",
    }
    kinds = {a.name: a.type for a in node.attribute}
    assert kinds["axes"] == onnx.AttributeProto.INTS and kinds["alpha"] == onnx.AttributeProto.FLOAT
    assert "count=7 (node attribute)" in change.mapping and "alpha=1.0 (default)" in change.mapping


def test_tensor_attribute_is_converted() -> None:
    tensor = numpy_helper.from_array(np.array([2, -1], dtype=np.int64))
    node, _, _ = rewrite_thing(thing_model(helper.make_attribute("axes", tensor)))
    assert fields(node)["axes"] == [2, -1]


@pytest.mark.parametrize(
    ("attr", "reason"),
    [
        (helper.make_attribute("count", 2**31), "does not fit in int32"),
        (helper.make_attribute("alpha", 11.0), "attribute 'alpha': 11.0 is above the maximum"),
        (helper.make_attribute("mode", "a\0b"), "NUL byte"),
        (helper.make_attribute("mode", b"\xff"), "not valid UTF-8"),
        (helper.make_attribute("colour", "red"), "'colour' is not a field of TrtplugTestThing"),
        (helper.make_attribute("count", [1, 2]), "a int field cannot take"),
        (helper.make_attribute("axes", numpy_helper.from_array(np.array([1.5]))), "is not an integer"),
        (helper.make_attribute("scales", numpy_helper.from_array(np.array([1.0, 1e39]))), "overflows float32"),
    ],
)
def test_unrepresentable_attributes_leave_the_node_with_a_reason(attr, reason: str) -> None:
    original = thing_model(attr)
    _node, change, rewritten = rewrite_thing(original)
    assert rewritten == original and change.action == "left" and reason in change.reason


def test_graph_attribute_is_refused() -> None:
    body = helper.make_graph([], "body", [], [])
    node, change, _ = rewrite_thing(thing_model(helper.make_attribute("mode", body)))
    assert node.op_type == "Thing" and "GRAPH" in change.reason and "rejects" in change.reason


def test_unsupported_dtype_is_left_with_reason() -> None:
    original = thing_model(elem=F16)
    _, change, rewritten = rewrite_thing(original)
    assert rewritten == original and "input 'X' (x) is float16; TrtplugTestThing supports float32" in change.reason


def test_shape_input_indices_and_unused_outputs() -> None:
    original = thing_model(inputs=("x", "shape"), outputs=("y", "", "w"))
    node, _change, _ = rewrite_thing(original)
    got = fields(node)
    assert got["tensorrt_plugin_shape_input_indices"] == [1] and got["num_outputs"] == 3
    assert node.output[0] == "y" and node.output[2] == "w" and node.output[1] == "thing_Z_unused"
    trimmed, _, _ = rewrite_thing(thing_model(outputs=("y", "", "")))
    assert list(trimmed.output) == ["y"] and fields(trimmed)["num_outputs"] == 1


def test_absent_optional_input_before_a_present_one_becomes_an_empty_stand_in() -> None:
    """TensorRT passes plugin inputs by position: the gap is filled with a zero-element constant."""
    node, change, rewritten = rewrite_thing(thing_model(inputs=("x", "", "x")))
    assert change.action == "replaced" and len(node.input) == 3 and node.input[2] == "x"
    (stand_in,) = [t for t in rewritten.graph.initializer if t.name == node.input[1]]
    assert stand_in.data_type == TensorProto.INT64 and list(stand_in.dims) == [0]
    assert any("absent optional input" in m for m in change.mapping)
    onnx.checker.check_model(rewritten, full_check=True)


def test_unknown_op_in_foreign_domain_is_reported() -> None:
    node = helper.make_node("Mystery", ["x"], ["y"], domain="com.example", name="m")
    _, result = rewrite(model([node], [io("x")], [io("y")], extra_opsets=(THING,)), fixture_registry("test_thing"))
    assert (
        result.changes[0].action == "left"
        and "no registered plugin covers com.example::Mystery" in result.changes[0].reason
    )


def clip_model(elem=TensorProto.FLOAT, max_from_input: bool = False) -> onnx.ModelProto:
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    inits = [const("lo", -0.5, dtype)] + ([] if max_from_input else [const("hi", 0.75, dtype)])
    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")
    inputs = [io("x", elem)] + ([io("hi", elem, ())] if max_from_input else [])
    return model([node], inputs, [io("y", elem)], inits, extra_opsets=())


@pytest.mark.parametrize("elem", [TensorProto.FLOAT, F16])
def test_constant_inputs_fold_into_fields(elem, seed: int) -> None:
    original = clip_model(elem)
    registry = fixture_registry("test_clip")
    rewritten, result = rewrite(original, registry)
    node = rewritten.graph.node[0]
    assert node.op_type == "TrtplugTestClip" and list(node.input) == ["x"]
    assert fields(node)["min"] == pytest.approx(-0.5) and fields(node)["max"] == pytest.approx(0.75)
    assert not rewritten.graph.initializer  # folded constants no longer needed
    assert "min=-0.5 (constant input lo)" in result.changes[0].mapping
    assert_parity(original, rewritten, registry, seed)


def test_non_constant_folded_input_is_refused() -> None:
    original = clip_model(max_from_input=True)
    rewritten, result = rewrite(original, fixture_registry("test_clip"))
    assert rewritten == original and "input 'max' (hi) is not a constant" in result.changes[0].reason


def test_opset_outside_the_covered_range_is_reported() -> None:
    node = helper.make_node("Clip", ["x"], ["y"], name="old_clip", min=0.0)
    original = model([node], [io("x")], [io("y")], opset=9, extra_opsets=())
    rewritten, result = rewrite(original, fixture_registry("test_clip"))
    assert rewritten == original and "no plugin covers opset 9" in result.changes[0].reason


def test_nodes_inside_control_flow_bodies_are_rewritten() -> None:
    def branch(name: str, op: str) -> onnx.GraphProto:
        node = helper.make_node(op, ["x"], [f"{name}_y"], domain="com.microsoft" if op == "FastGelu" else "", name=name)
        return helper.make_graph([node], name, [], [io(f"{name}_y")])

    cond = helper.make_node(
        "If", ["c"], ["y"], name="if", then_branch=branch("then", "FastGelu"), else_branch=branch("else", "Relu")
    )
    inputs = [io("x"), helper.make_tensor_value_info("c", TensorProto.BOOL, [])]
    rewritten, result = rewrite(model([cond], inputs, [io("y")]), load_registry())
    then = fields(rewritten.graph.node[0])["then_branch"]
    assert then.node[0].op_type == "TrtplugFastGelu" and result.changes[0].node == "if/then_branch/then"


def test_only_and_exclude() -> None:
    nodes = [
        helper.make_node("FastGelu", ["x"], ["h"], domain="com.microsoft", name="a"),
        helper.make_node("Clip", ["h", "lo"], ["y"], name="b"),
    ]
    original = model(nodes, [io("x")], [io("y")], [const("lo", 0.0)])
    registry = load_registry([FIXTURE_PLUGINS])
    only, _ = rewrite(original, registry, only=["TrtplugFastGelu"])
    assert op_types(only) == ["TrtplugFastGelu", "Clip"]
    excluded, result = rewrite(original, registry, exclude=["Clip"])
    assert op_types(excluded) == ["TrtplugFastGelu", "Clip"]
    assert [c.action for c in result.changes] == ["replaced", "excluded"]


def test_exclude_one_plugin_falls_back_to_another(tmp_path) -> None:
    """Two plugins cover the op: excluding the first by name leaves the second."""
    alt = tmp_path / "alt_clip"
    alt.mkdir()
    text = (FIXTURE_PLUGINS / "test_clip" / "spec.toml").read_text().replace("TrtplugTestClip", "TrtplugAltClip")
    (alt / "spec.toml").write_text(text)
    registry = load_registry([FIXTURE_PLUGINS, tmp_path])
    rewritten, _ = rewrite(clip_model(), registry, exclude=["TrtplugTestClip"])
    assert op_types(rewritten) == ["TrtplugAltClip"]
    rewritten, result = rewrite(clip_model(), registry, exclude=["Clip"])
    assert op_types(rewritten) == ["Clip"] and result.changes[0].reason == "excluded by --exclude Clip"
