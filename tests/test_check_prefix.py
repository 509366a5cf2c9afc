"""The whole-model parse of a rewritten model: a parser without trtplug's creators rejects its plugin
nodes in the static checks, before importing any node, so the nodes before the first plugin node
are confirmed by a parse of that prefix (trtplug/check/prefix.py): what it imports is cleared of
failures seen only in isolation, what it rejects stays."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from trtplug.check.findings import CheckReport
from trtplug.check.parser_mode import Verdict, _confirm_prefix
from trtplug.check.pool import JobResult
from trtplug.check.prefix import plugin_prefix
from trtplug.check.walk import walk


def _model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("TrtplugNonZero", ["r"], ["nz", "nz_count"], name="plugin", domain="trtplug"),
        helper.make_node("Cast", ["shape"], ["shape_f"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["nz"], ["y"], name="after", perm=[1, 0]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [
            helper.make_tensor_value_info("y", TensorProto.INT64, None),
            helper.make_tensor_value_info("shape_f", TensorProto.FLOAT, [2]),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("trtplug", 1)])


def test_the_prefix_ends_before_the_first_plugin_node_and_outputs_what_later_nodes_read() -> None:
    data, first = plugin_prefix(_model(), {"trtplug"})
    prefix = onnx.load_from_string(data)
    assert first == 2
    assert [n.name for n in prefix.graph.node] == ["shape", "relu"]
    assert [o.name for o in prefix.graph.output] == ["shape", "r"]  # read by the cast and the plugin


def test_no_prefix_without_plugin_nodes_or_before_a_first_plugin_node() -> None:
    model = _model()
    assert plugin_prefix(model, {"other"}) is None
    model.graph.node.insert(0, helper.make_node("TrtplugNonZero", ["x"], ["a", "b"], domain="trtplug"))
    assert plugin_prefix(model, {"trtplug"}) is None


def _verdicts(model: onnx.ModelProto) -> tuple[list, list[Verdict]]:
    sites = list(walk(model))
    return sites, [Verdict(["only in isolation"]) for _ in sites]


def test_an_imported_prefix_clears_its_nodes_and_nothing_after() -> None:
    sites, verdicts = _verdicts(_model())
    report = CheckReport(model="m", mode="parser", engine="")
    _confirm_prefix(sites, verdicts, JobResult(), 2, report)
    assert [bool(v.reasons) for v in verdicts] == [False, False, True, True, True]
    assert report.stats["plugin_prefix"] == "imports"


def test_a_prefix_import_failure_keeps_that_node_and_clears_the_ones_before() -> None:
    sites, verdicts = _verdicts(_model())
    report = CheckReport(model="m", mode="parser", engine="")
    error = {"node": 1, "node_name": "relu", "desc": "no Relu here", "where": "importer.cpp:1 importRelu"}
    _confirm_prefix(sites, verdicts, JobResult(errors=[error]), 2, report)
    assert verdicts[0].reasons == [] and verdicts[1].reasons[0] == "no Relu here"
    assert report.stats["plugin_prefix"] == "rejected"


def test_an_aborted_prefix_parse_changes_nothing_and_says_so() -> None:
    sites, verdicts = _verdicts(_model())
    report = CheckReport(model="m", mode="parser", engine="")
    _confirm_prefix(sites, verdicts, JobResult(aborted="parser aborted the process (SIGSEGV)"), 2, report)
    assert all(v.reasons for v in verdicts) and "SIGSEGV" in report.notes[0]
