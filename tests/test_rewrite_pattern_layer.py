"""The pattern layer over onnx-graphsurgeon (graph_rewrites/pattern.py) and the pattern pass's
cost rules: commutative operands, names bound once, alternatives, optional inputs, near misses,
and onnx-graphsurgeon imported only when a graph holds an anchor."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from onnx import helper
from trtplug.graph_rewrites import pattern_pass
from trtplug.graph_rewrites.graph_view import GraphView
from trtplug.graph_rewrites.pattern import Match, either, match_tensor, op, opt, var
from trtplug.graph_rewrites.pattern import const as pconst
from trtplug.graph_rewrites.tensor_types import infer_types

from tests.rewrite_models import const, fixture_registry, io, model, op_types, rewrite, torch_gelu_nodes


def first_match(pattern, built, output: str = "y") -> Match | None:
    types, _ = infer_types(built)
    view = GraphView(built.graph, types)
    graph = pattern_pass.import_graph(built.graph)
    tensor = graph.tensors()[output]
    return next(match_tensor(pattern, tensor, Match(view)), None)


def two_input_model(nodes, inits=()) -> object:
    return model(nodes, [io("a"), io("b")], [io("y")], inits)


@pytest.mark.parametrize("order", [["a", "half"], ["half", "a"]])
def test_commutative_operands_match_in_either_order(order: list[str]) -> None:
    built = two_input_model([helper.make_node("Mul", order, ["y"])], [const("half", 0.5)])
    found = first_match(op("Mul", var("x"), pconst(0.5)), built)
    assert found is not None and found["x"] == "a"
    div = two_input_model([helper.make_node("Div", order, ["y"])], [const("half", 0.5)])
    assert (first_match(op("Div", var("x"), pconst(0.5)), div) is not None) == (order[0] == "a")


def test_a_name_used_twice_is_one_tensor() -> None:
    same = two_input_model([helper.make_node("Mul", ["a", "a"], ["y"])])
    other = two_input_model([helper.make_node("Mul", ["a", "b"], ["y"])])
    square = op("Mul", var("x"), var("x"))
    assert first_match(square, same) is not None and first_match(square, other) is None


def test_alternatives_constants_and_optional_inputs() -> None:
    nodes = [helper.make_node("Add", ["a", "c"], ["s"]), helper.make_node("Relu", ["s"], ["y"])]
    built = two_input_model(nodes, [const("c", 1.0005)])
    plus_one = op("Relu", either(op("Sub", var("x"), pconst(1.0)), op("Add", var("x"), pconst(1.0))))
    assert first_match(plus_one, built)["x"] == "a"  # 1.0005 is 1 within the 1e-3 tolerance
    assert first_match(op("Relu", op("Add", var("x"), pconst(2.0))), built) is None
    bound = first_match(op("Relu", op("Add", var("x"), pconst(name="k"))), built)
    assert bound.scalar("k") == pytest.approx(1.0005)
    clip = two_input_model([helper.make_node("Clip", ["a", "", "b"], ["y"])])
    found = first_match(op("Clip", var("x"), opt(var("lo")), opt(var("hi"))), clip)
    assert found is not None and "lo" not in found.bound and found["hi"] == "b"


def test_near_miss_names_how_far_the_pattern_got() -> None:
    gelu, consts = torch_gelu_nodes("x", "y")
    gelu[-1] = helper.make_node("Mul", ["g_m", "g_one"], ["y"], name="g_mul_half")  # * 1, not * 0.5
    _, result = rewrite(model(gelu, [io("x")], [io("y")], consts), fixture_registry("test_gelu", "test_bias_gelu"))
    assert [c.reason for c in result.changes if c.rule] == ["1 + erf(...) is not multiplied by x and 0.5"]


def test_graph_without_anchor_is_never_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(graph):
        raise AssertionError("onnx-graphsurgeon import of a graph without anchors")

    monkeypatch.setattr(pattern_pass, "import_graph", refuse)
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "c"], ["y"])]
    built = model(nodes, [io("x")], [io("y")], [const("c", np.ones(16))])
    rewritten, result = rewrite(built, fixture_registry("test_gelu", "test_bias_gelu"))
    assert op_types(rewritten) == ["Relu", "Add"] and not result.changes


def test_only_the_region_around_anchors_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    imported = []
    real = pattern_pass.import_graph
    monkeypatch.setattr(pattern_pass, "import_graph", lambda graph: imported.append(len(graph.node)) or real(graph))
    chain = [
        helper.make_node(
            "Relu",
            [
                f"r{i}",
            ],
            [f"r{i + 1}"],
            name=f"relu{i}",
        )
        for i in range(60)
    ]
    gelu, consts = torch_gelu_nodes("r60", "y")
    built = model([*chain, *gelu], [helper.make_tensor_value_info("r0", 1, ["batch", "seq", 16])], [io("y")], consts)
    rewritten, _ = rewrite(built, fixture_registry("test_gelu", "test_bias_gelu"))
    assert op_types(rewritten) == ["Relu"] * 60 + ["TrtplugTestGelu"]
    assert imported and imported[0] < 60  # the GELU and its neighbourhood, not the 60 Relus


def test_onnx_graphsurgeon_is_imported_lazily() -> None:
    code = (
        "import sys; from trtplug.commands import rewrite; from trtplug.graph_rewrites import pipeline;"
        "print('onnx_graphsurgeon' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
