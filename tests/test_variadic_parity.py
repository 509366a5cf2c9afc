"""Parity of a variadic op (a Sum over 1, 2 and odd counts of tensors) against onnx.reference:
the cases, the prototype receiving the list, and model parity of rewritten 3- and 5-input nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from onnx import helper

from tests.rewrite_models import F32, assert_parity, io, model, rewrite
from tests.test_spec import write_op
from tests.test_variadic_rewrite import SUM_SPEC
from trtplug.parity.cases import default_cases
from trtplug.parity.runner import run_one
from trtplug.registry import Registry, load_registry

# A prototype that sums every tensor it is given, and one that stops after two.
SUM_ALL = """
def forward(xp, inputs, outputs, attrs):
    total = inputs[0].astype(xp.float32)
    for x in inputs[1:]:
        total = total + x.astype(xp.float32)
    outputs[0][...] = total.astype(outputs[0].dtype)
"""
SUM_TWO = SUM_ALL.replace("inputs[1:]", "inputs[1:2]")


def sum_project(root: Path, prototype: str) -> Registry:
    write_op(root / "plugins", "test_sum", SUM_SPEC.replace("min_count = 2", "min_count = 1"))
    (root / "pyplugins").mkdir()
    (root / "pyplugins" / "test_sum.py").write_text(prototype)
    only = Registry()
    only.add(load_registry([root / "plugins"]).get("test_sum"))
    return only


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return sum_project(tmp_path / "all", SUM_ALL)


def test_cases_run_one_two_and_odd_counts(registry: Registry) -> None:
    spec = registry.get("test_sum")
    cases = default_cases(spec)
    counts = {c.name.split("-")[0]: set() for c in cases}
    for case in cases:
        counts[case.name.split("-")[0]].add(case.variadic_count)
        names = [n for n in case.shapes if n.startswith("data_0")]
        assert names == ["data_0"] + [f"data_0#{i}" for i in range(1, case.variadic_count)]
    assert counts["odd"] == {1, 2, 3, 5} and counts["strided"] == {1}
    assert "odd-3_inputs" in {c.name for c in cases}


def test_prototype_receives_every_tensor(registry: Registry, seed: int) -> None:
    spec = registry.get("test_sum")
    results = [run_one(spec, "numpy", dtype, case, seed) for dtype in spec.dtypes for case in default_cases(spec)]
    assert results and all(r.status == "pass" for r in results), [(r.case, r.status, r.detail) for r in results]


def test_a_prototype_that_drops_tensors_fails_from_three(tmp_path: Path, seed: int) -> None:
    spec = sum_project(tmp_path / "two", SUM_TWO).get("test_sum")
    failed = {c.name for c in default_cases(spec) if run_one(spec, "numpy", "float32", c, seed).status == "fail"}
    assert "odd-3_inputs" in failed and "odd-5_inputs" in failed
    assert not {n for n in failed if n.endswith(("-1_inputs", "-2_inputs"))}


@pytest.mark.parametrize("count", [3, 5])
def test_rewritten_node_keeps_model_parity(registry: Registry, count: int, seed: int) -> None:
    names = [f"x{i}" for i in range(count)]
    node = helper.make_node("Sum", names, ["y"], name="summed")
    original = model([node], [io(n) for n in names], [io("y", F32)], extra_opsets=())
    rewritten, _ = rewrite(original, registry)
    assert rewritten.graph.node[0].op_type == "TrtplugTestSum"
    assert_parity(original, rewritten, registry, seed)
