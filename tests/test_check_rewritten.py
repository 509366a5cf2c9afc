"""`trtplug check` on a model `trtplug rewrite` wrote: its plugin nodes (a registered plugin's name
in the trtplug or trtplug_proto domain) import once the plugins are registered, so they count as
covered, say how to load them, and the check exits 0; the original's nodes are still reported as
before. Static data here; the TensorRT-RTX parser too where it is installed."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import helper

from tests.rewrite_models import io, linear_gelu_model
from trtplug.check.backend import available_backends
from trtplug.cli import main


@pytest.fixture
def gelu_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An erf-GELU after a MatMul with a bias (fused into TrtplugBiasGelu), rewritten for the native
    plugins and for the prototype plugins."""
    original = tmp_path / "gelu.onnx"
    onnx.save(linear_gelu_model("div", bias=True), original)
    native, proto = tmp_path / "gelu.plugins.onnx", tmp_path / "gelu.proto.onnx"
    assert main(["rewrite", str(original), "-o", str(native), "--all-covered"]) == 0
    assert main(["rewrite", str(original), "-o", str(proto), "--all-covered", "--plugin-backend", "prototype"]) == 0
    return original, native, proto


def check_json(path: Path, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["check", str(path), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


BACKENDS = [["--static", "--trt-version", "10.14"]] + [["--backend", b] for b in available_backends()]


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b[-1])
def test_plugin_nodes_count_as_covered_and_say_how_to_load(gelu_pair, capsys, backend) -> None:
    _, native, proto = gelu_pair
    for path, how in ((native, "trtplug's plugin library"), (proto, "trtplug.protoplugin.register")):
        code, doc = check_json(path, capsys, *backend)
        plugin_nodes = [f for f in doc["findings"] if f["kind"] == "trtplug-plugin"]
        assert code == 0 and doc["uncovered"] == 0, doc
        assert plugin_nodes and all(f["plugin"] == f["op_type"] == "TrtplugBiasGelu" for f in plugin_nodes)
        assert all(how in f["reason"] for f in plugin_nodes)


def test_the_summary_counts_plugin_nodes_apart(gelu_pair, capsys) -> None:
    _, native, _ = gelu_pair
    capsys.readouterr()
    assert main(["check", str(native), "--static", "--trt-version", "10.14"]) == 0
    assert "0 rejected, 0 covered by a trtplug plugin, 0 not covered; 1 trtplug plugin nodes" in capsys.readouterr().out


def test_a_node_named_like_a_plugin_in_another_domain_is_still_rejected(tmp_path: Path, capsys) -> None:
    """Only the domains rewrite writes: a TrtplugBiasGelu in a user's own domain is not ours."""
    node = helper.make_node("TrtplugBiasGelu", ["x", "b"], ["y"], domain="acme", name="g")
    graph = helper.make_graph([node], "g", [io("x"), io("b")], [io("y")])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("acme", 1)]
    path = tmp_path / "acme.onnx"
    onnx.save(helper.make_model(graph, opset_imports=opsets, ir_version=9), path)
    code, doc = check_json(path, capsys, "--static", "--trt-version", "10.14")
    assert code == 1 and doc["uncovered"] == 1 and doc["findings"][0]["kind"] == "rejected"
