"""`trtplug check` in parser mode, against the real parser (TensorRT or TensorRT-RTX on the CPU).
Skipped, with the reason printed, where neither is importable."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.check_models import FLOAT, conv_net, model, reduce_with_axes, save, tensor
from trtplug.check.backend import choose_backend
from trtplug.check.runner import check_model
from trtplug.cli import main

BACKEND = choose_backend("auto")
pytestmark = pytest.mark.skipif(BACKEND is None, reason="no TensorRT parser importable (pip install tensorrt-rtx)")


def _conformance_cases():
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [c for c in collect_testcases(None) if len(c.model.graph.node) == 1 and not c.name.endswith("_expanded")]


def test_conformance_cases_the_parser_rejects_are_named(tmp_path: Path) -> None:
    """For a spread of single-node conformance cases the parser rejects (one per op), check names the node."""
    from trtplug.check.pool import run_jobs

    cases = _conformance_cases()
    verdicts = run_jobs([(c.model.SerializeToString(), None) for c in cases], BACKEND)
    rejected = {}
    for case, verdict in zip(cases, verdicts, strict=True):
        if verdict.errors or verdict.aborted:
            rejected.setdefault(case.model.graph.node[0].op_type, case)
    assert len(rejected) >= 20, "the parser should reject many conformance op cases"
    for op_type, case in sorted(rejected.items())[::3]:
        path = save(case.model, tmp_path, f"{case.name}.onnx")
        report = check_model(path, backend=BACKEND)
        node = case.model.graph.node[0]
        expected = node.name or f"{op_type}_0"
        named = [f.node for f in report.findings]
        assert named and named[0] == expected, (case.name, report.findings)
        assert all(n in (expected, "(whole model)") or n.startswith(f"{expected}/") for n in named), (case.name, named)
        assert report.findings[0].reason and report.findings[0].op_type == op_type


def test_a_conv_net_reports_nothing(tmp_path: Path, seed: int, capsys) -> None:
    path = save(conv_net(np.random.default_rng(seed)), tmp_path)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "imports every node" in out and "9 nodes" in out
    report = check_model(path, backend=BACKEND)
    assert report.findings == [] and report.stats["whole_model"] == "imports"


def test_support_that_depends_on_a_constant_input(tmp_path: Path) -> None:
    constant = check_model(save(reduce_with_axes(True), tmp_path, "const.onnx"), backend=BACKEND)
    dynamic = check_model(save(reduce_with_axes(False), tmp_path, "dyn.onnx"), backend=BACKEND)
    assert constant.findings == []
    assert [f.node for f in dynamic.findings] == ["reduce"] and "constant" in dynamic.findings[0].reason


@pytest.mark.skipif(BACKEND != "tensorrt_rtx", reason="the crashing node is specific to TensorRT-RTX without a GPU")
def test_an_aborting_node_is_reported_not_fatal(tmp_path: Path) -> None:
    """TensorRT-RTX crashes (SIGSEGV) when asked to import its internal MyelinWeightsTransformPlugin."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="fine"),
        helper.make_node("MyelinWeightsTransformPlugin", ["r"], ["y"], name="crasher"),
        helper.make_node("BitwiseNot", ["i"], ["j"], name="bitnot"),
    ]
    inputs = [tensor("x", shape=[1, 3, 8, 8]), tensor("i", TensorProto.INT32, [4])]
    path = save(model(nodes, inputs, [tensor("y"), tensor("j", TensorProto.INT32)]), tmp_path)
    report = check_model(path, backend=BACKEND)
    found = {f.node: f for f in report.findings}
    assert set(found) == {"crasher", "bitnot"}
    assert found["crasher"].source == "parser abort" and "SIG" in found["crasher"].reason
    assert report.stats["whole_model"] == "aborted" and report.exit_code == 1


def test_covered_nodes_exit_0_and_name_their_plugin(tmp_path: Path, capsys) -> None:
    nodes = [
        helper.make_node("FastGelu", ["x"], ["g"], name="gelu", domain="com.microsoft"),
        helper.make_node("Relu", ["g"], ["y"], name="relu"),
    ]
    m = model(nodes, [tensor("x", shape=[2, 8])], [tensor("y")], opsets=(("", 18), ("com.microsoft", 1)))
    path = save(m, tmp_path)
    assert main(["check", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "trtplug.check" and doc["schema_version"] == 1 and doc["mode"] == "parser"
    assert [(f["node"], f["plugin"]) for f in doc["findings"]] == [("gelu", "TrtplugFastGelu")]
    assert doc["uncovered"] == 0 and "Plugin not found" in doc["findings"][0]["reason"]


def test_markdown_and_exit_1_for_uncovered(tmp_path: Path, capsys) -> None:
    node = helper.make_node("Mystery", ["a", "b"], ["c"], name="myst", domain="com.example")
    ints = [tensor(n, TensorProto.INT32, [3]) for n in "abc"]
    path = save(model([node], ints[:2], ints[2:], opsets=(("", 18), ("com.example", 1))), tmp_path)
    assert main(["check", str(path), "--markdown"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("# trtplug check") and "| myst | Mystery | com.example |" in out and "| none |" in out


def test_one_parse_per_distinct_signature(tmp_path: Path) -> None:
    nodes, name = [], "x"
    for i in range(300):
        nodes.append(helper.make_node("Relu" if i % 2 else "Sigmoid", [name], [f"t{i}"], name=f"n{i}"))
        name = f"t{i}"
    path = save(model(nodes, [tensor("x", shape=["N", 64])], [tensor(name)]), tmp_path)
    report = check_model(path, backend=BACKEND)
    assert report.findings == [] and report.nodes == 300
    assert report.stats["distinct_signatures"] == 2 and report.stats["parses"] == 3


def test_if_bodies_are_checked(tmp_path: Path) -> None:
    ints = [tensor(n, TensorProto.INT32, [3]) for n in ("a", "t", "e")]
    then_body = helper.make_graph(
        [helper.make_node("BitwiseNot", ["a"], ["t"], name="inner_not")], "then", [], [ints[1]]
    )
    else_body = helper.make_graph([helper.make_node("Neg", ["a"], ["e"], name="inner_neg")], "else", [], [ints[2]])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_body, else_branch=else_body, name="branch")
    inputs = [tensor("cond", TensorProto.BOOL, []), ints[0]]
    path = save(model([node], inputs, [tensor("y", TensorProto.INT32, [3])]), tmp_path)
    report = check_model(path, backend=BACKEND)
    assert [f.node for f in report.findings] == ["branch/then_branch/inner_not"]


def test_local_functions_are_checked_as_a_call(tmp_path: Path) -> None:
    body = [helper.make_node("BitwiseNot", ["u"], ["v"], name="fn_not")]
    function = helper.make_function("local", "Invert", ["u"], ["v"], body, [helper.make_opsetid("", 18)])
    call = helper.make_node("Invert", ["a"], ["b"], domain="local", name="call")
    ints = [tensor(n, TensorProto.INT32, [3]) for n in "ab"]
    m = model([call], ints[:1], ints[1:], opsets=(("", 18), ("local", 1)), functions=[function])
    report = check_model(save(m, tmp_path), backend=BACKEND)
    assert [f.node for f in report.findings] == ["call"]


def test_external_weights_stay_on_disk_but_small_constants_are_read(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32), "w")
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
        helper.make_node("ReduceSum", ["m", "axes"], ["y"], keepdims=0, name="reduce"),
    ]
    m = model(nodes, [tensor("x", shape=["N", 64])], [tensor("y", FLOAT)], [w, axes])
    onnx.save(m, str(tmp_path / "model.onnx"), save_as_external_data=True, location="weights.bin", size_threshold=0)
    report = check_model(tmp_path / "model.onnx", backend=BACKEND)
    assert report.findings == [] and report.stats["whole_model"] == "imports"
