"""An optimized BERT-like encoder through the whole user flow: check -> rewrite -> model-level
parity, with every com.microsoft node replaced by a trtplug plugin (issue: transformer ops)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from tests.encoder_model import encoder_model
from trtplug.check.backend import available_backends
from trtplug.cli import main

DIMS = ["--dim", "batch=2", "--dim", "seq=7"]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("encoder") / "encoder.onnx"
    onnx.save(encoder_model(), path)
    return path


@pytest.fixture(scope="module")
def rewritten(encoder: Path) -> Path:
    out = encoder.with_name("encoder.plugins.onnx")
    assert main(["rewrite", str(encoder), "-o", str(out), "--all-covered"]) == 0
    return out


def contrib_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.domain == "com.microsoft"]


def test_check_names_every_rejected_contrib_node_and_its_plugin(encoder: Path, capsys) -> None:
    assert main(["check", "--static", "--json", str(encoder)]) == 0  # 0: every rejected node is covered
    findings = {f["node"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    for node in contrib_nodes(onnx.load(encoder)):
        if node.op_type == "Gelu":
            continue  # the parser dispatches by op_type: ai.onnx Gelu (opset 20) imports it
        assert findings[node.name]["plugin"].startswith("Trtplug"), findings.get(node.name)


def test_rewrite_leaves_what_the_target_imports(encoder: Path, tmp_path: Path, capsys) -> None:
    """By default only the nodes the target rejects: for TensorRT 10.16 (static data) the contrib Gelu
    imports as ai.onnx Gelu and stays; every other contrib node becomes a plugin node."""
    out = tmp_path / "targeted.onnx"
    assert main(["rewrite", str(encoder), "-o", str(out), "--trt-version", "10.16", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    left = {c["node"]: c["reason"] for c in doc["changes"] if c["action"] == "left"}
    gelu = [n.name for n in contrib_nodes(onnx.load(encoder)) if n.op_type == "Gelu"]
    assert gelu and set(left) == set(gelu), left
    assert all("static data, TensorRT 10.16 imports it natively" in why for why in left.values())
    assert doc["target"] == "static data, TensorRT 10.16"
    assert [n.op_type for n in contrib_nodes(onnx.load(out))] == ["Gelu"] * len(gelu)


def test_rewrite_replaces_every_contrib_node(encoder: Path, rewritten: Path) -> None:
    model = onnx.load(rewritten)
    onnx.checker.check_model(model, full_check=True)
    assert not contrib_nodes(model)
    plugins = {n.op_type for n in model.graph.node if n.domain == "trtplug"}
    assert plugins == {
        "TrtplugEmbedLayerNorm",
        "TrtplugSkipLayerNorm",
        "TrtplugSkipSimplifiedLayerNorm",
        "TrtplugBiasGelu",
        "TrtplugFastGelu",
        "TrtplugGelu",
        "TrtplugQuickGelu",
    }
    assert len(model.graph.node) == len(onnx.load(encoder).graph.node)


def test_model_parity_passes(encoder: Path, rewritten: Path, capsys) -> None:
    assert main(["parity", "--model", str(encoder), "--rewritten", str(rewritten), *DIMS, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and len(result["plugins"]) == 7


def test_model_parity_catches_swapped_norm_parameters(rewritten: Path, tmp_path: Path, capsys) -> None:
    model = onnx.load(rewritten)
    norm = next(n for n in model.graph.node if n.op_type == "TrtplugSkipLayerNorm")
    norm.input[2], norm.input[3] = norm.input[3], norm.input[2]  # gamma <-> beta
    broken = tmp_path / "broken.onnx"
    onnx.save(model, broken)
    encoder = rewritten.with_name("encoder.onnx")
    assert main(["parity", "--model", str(encoder), "--rewritten", str(broken), *DIMS]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_parser_check_types_the_graph_after_contrib_ops(encoder: Path, capsys) -> None:
    """ONNX inference stops at com.microsoft ops; check types what follows from the plugin specs,
    so the parser judges the MatMuls downstream on real shapes, not guesses."""
    pytest.importorskip("tensorrt_rtx", reason="parser mode needs TensorRT-RTX (pip install tensorrt-rtx)")
    assert main(["check", "--json", "--no-progress", str(encoder)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "parser" and doc["uncovered"] == 0
    assert all(f["domain"] == "com.microsoft" for f in doc["findings"])


@pytest.mark.skipif("tensorrt_rtx" not in available_backends(), reason="tensorrt-rtx is not installed")
def test_default_rewrite_replaces_exactly_what_the_parser_rejects(encoder: Path, tmp_path: Path, capsys) -> None:
    """No --trt-version: the target is the parser `check` asks; the two always agree."""
    assert main(["check", str(encoder), "--json", "--no-progress"]) == 0
    rejected = {f["node"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert main(["rewrite", str(encoder), "-o", str(tmp_path / "out.onnx"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    replaced = {c["node"] for c in doc["changes"] if c["action"] == "replaced"}
    left = {c["node"] for c in doc["changes"] if c["action"] == "left"}
    assert doc["target"].startswith("tensorrt_rtx") and replaced == rejected and left
    assert not left & rejected
