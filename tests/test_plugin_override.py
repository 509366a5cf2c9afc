"""`rewrite --plugin-override`: standard-op nodes a plugin serves unchanged stay ONNX nodes and
TensorRT's parser binds them to the plugin through its override flag (TensorRT >= 10.15, and
TensorRT-RTX's real parser here), with libtrtplug_plugins exposing the alias creators that
TRTPLUG_PLUGIN_OVERRIDE names."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from tests.test_rewrite_tensorrt_rtx import parse  # noqa: F401  (fixture)
from trtplug.cli import main


def scatter_model(reductions: tuple[str, ...], data_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    """ScatterND nodes in a chain, one per reduction; TensorRT imports only reduction='none'."""
    nodes, current = [], "data"
    for i, reduction in enumerate(reductions):
        nodes.append(
            helper.make_node(
                "ScatterND", [current, "indices", "updates"], [f"s{i}"], name=f"scatter{i}", reduction=reduction
            )
        )
        current = f"s{i}"
    inputs = [
        helper.make_tensor_value_info("data", data_type, [4, 5]),
        helper.make_tensor_value_info("indices", TensorProto.INT64, [2, 1]),
        helper.make_tensor_value_info("updates", data_type, [2, 5]),
    ]
    outputs = [helper.make_tensor_value_info(current, data_type, [4, 5])]
    graph = helper.make_graph(nodes, "scatters", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def rewrite_json(tmp_path: Path, built: onnx.ModelProto, capsys, *flags: str) -> tuple[int, dict, Path]:
    source, out = tmp_path / "in.onnx", tmp_path / "out.onnx"
    onnx.save(built, source)
    code = main(["rewrite", str(source), "-o", str(out), "--json", *flags])
    text = capsys.readouterr().out
    return code, (json.loads(text) if code == 0 else {}), out


def test_every_node_of_an_overridden_type_stays_onnx(tmp_path: Path, capsys) -> None:
    """With the flag the parser sends every ScatterND to the alias, native ones included."""
    built = scatter_model(("none", "mul"))
    code, report, out = rewrite_json(tmp_path, built, capsys, "--plugin-override", "--trt-version", "10.16")
    assert code == 0
    assert report["counts"]["override"] == 2 and report["counts"]["replaced"] == 0
    assert report["plugin_override"]["env"] == {"TRTPLUG_PLUGIN_OVERRIDE": "ScatterND=TrtplugScatterND"}
    assert report["plugin_override"]["parser_flag"] == "OnnxParserFlag.ENABLE_PLUGIN_OVERRIDE"
    written = onnx.load(out)
    assert [(n.op_type, n.domain) for n in written.graph.node] == [("ScatterND", "")] * 2
    assert written.graph.node[1].attribute[0].s == b"mul"


def test_without_a_rejected_node_nothing_is_overridden(tmp_path: Path, capsys) -> None:
    code, report, _ = rewrite_json(
        tmp_path, scatter_model(("none",)), capsys, "--plugin-override", "--trt-version", "10.16"
    )
    assert code == 0 and report["plugin_override"] is None
    assert [c["action"] for c in report["changes"]] == ["left"]


def test_a_type_the_plugin_cannot_serve_everywhere_is_rewritten(tmp_path: Path, capsys) -> None:
    """An int8 ScatterND the plugin does not take keeps the type out of the override: the
    rejected float node becomes a plugin node as without the flag."""
    built = scatter_model(("mul",))
    int8 = scatter_model(("add",), TensorProto.INT8).graph
    for item in int8.node:
        item.name, item.output[0] = "scatter_int8", "t0"
        item.input[0], item.input[2] = "data8", "updates8"
    built.graph.node.extend(int8.node)
    built.graph.input.extend(
        [
            helper.make_tensor_value_info("data8", TensorProto.INT8, [4, 5]),
            helper.make_tensor_value_info("updates8", TensorProto.INT8, [2, 5]),
        ]
    )
    built.graph.output.append(helper.make_tensor_value_info("t0", TensorProto.INT8, [4, 5]))
    code, report, _ = rewrite_json(tmp_path, built, capsys, "--plugin-override", "--trt-version", "10.16")
    assert code == 0 and report["plugin_override"] is None
    actions = {c["node"]: c["action"] for c in report["changes"]}
    assert actions["scatter0"] == "replaced" and actions["scatter_int8"] == "left"


def test_a_plugin_with_size_tensors_cannot_serve_an_override(tmp_path: Path, capsys) -> None:
    node = helper.make_node("Unique", ["x"], ["y"], name="unique", sorted=1)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])],
    )
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    code, report, _ = rewrite_json(tmp_path, built, capsys, "--plugin-override", "--trt-version", "10.16")
    assert code == 0 and report["plugin_override"] is None
    assert report["counts"]["replaced"] == 1


def test_targets_before_10_15_are_refused(tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.onnx"
    onnx.save(scatter_model(("mul",)), source)
    code = main(["rewrite", str(source), "-o", str(tmp_path / "o.onnx"), "--plugin-override", "--trt-version", "10.14"])
    assert code == 2
    assert "needs TensorRT >= 10.15" in capsys.readouterr().err
    assert not (tmp_path / "o.onnx").exists()


@pytest.mark.pluginlib
def test_parser_binds_the_unchanged_node_to_our_plugin(parse, tmp_path: Path, capsys) -> None:  # noqa: F811
    """TensorRT-RTX rejects ScatterND reduction='mul'; with the flag and the alias it creates ours."""
    code, report, out = rewrite_json(tmp_path, scatter_model(("mul",)), capsys, "--plugin-override")
    assert code == 0
    value = report["plugin_override"]["env"]["TRTPLUG_PLUGIN_OVERRIDE"]
    log = parse(out, value)
    assert "Searching for plugin: ScatterND, plugin_version: 1, plugin_namespace: " in log, log
    assert "Successfully created plugin: ScatterND" in log, log
    without = parse(out)  # the same model without the override: the native importer refuses it
    assert "Successfully created plugin" not in without and "ScatterND with reduction" in without, without


@pytest.mark.pluginlib
def test_an_alias_naming_no_plugin_is_reported(parse, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "in.onnx"
    onnx.save(scatter_model(("mul",)), path)
    log = parse(path, "ScatterND=TrtplugNoSuchPlugin,Bad")
    assert "'ScatterND=TrtplugNoSuchPlugin' names no trtplug plugin" in log, log
    assert "'Bad=' names no trtplug plugin" in log, log
    assert "Successfully created plugin" not in log, log


def test_the_env_value_lists_pairs_in_a_stable_order() -> None:
    from trtplug.graph_rewrites.plugin_override import env_value

    pairs = {"ScatterND": "TrtplugScatterND", "BitShift": "TrtplugBitShift"}
    assert env_value(pairs) == "BitShift=TrtplugBitShift,ScatterND=TrtplugScatterND"
