"""`trtplug check` counts a node as covered only when `trtplug rewrite` can replace it. ONNX Runtime
GenAI 0.18's GroupQueryAttention on an int8 KV cache (`kv_cache_quant_scheme=int8_per_tensor`:
k_scale/v_scale at inputs 12 and 13, kv_cache_bit_width 8) is covered and replaced; a plugin that
covers the op type but not this node (a 4-bit uint8 cache, kv_cache_bit_width 4) leaves it
uncovered, with the rewrite's reason, in the original and in the rewritten model, so check and
rewrite agree; `list --model` says the same."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
from onnx import TensorProto

from tests import gqa_decoder_model as layer
from trtplug.cli import main

PLUGIN = "TrtplugGroupQueryAttention"
STATIC = ["--static", "--trt-version", "10.14"]


def _int8_cache_layer(bits: int = 8) -> onnx.ModelProto:
    return layer.int8_cache_layer(bits=bits)


def _check(path: Path, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["check", str(path), "--json", *STATIC])
    return code, json.loads(capsys.readouterr().out)


def _gqa_finding(doc: dict) -> dict:
    (finding,) = [f for f in doc["findings"] if f["op_type"] == "GroupQueryAttention"]
    return finding


def test_a_plugin_that_takes_the_node_covers_it(tmp_path: Path, capsys) -> None:
    path = tmp_path / "layer.onnx"
    onnx.save(layer.decoder_layer(), path)
    code, doc = _check(path, capsys)
    assert code == 0 and doc["uncovered"] == 0, doc
    assert _gqa_finding(doc)["plugin"] == PLUGIN


def test_an_int8_cache_node_is_covered_and_replaced(tmp_path: Path, capsys) -> None:
    path = tmp_path / "int8_cache.onnx"
    onnx.save(_int8_cache_layer(), path)
    code, doc = _check(path, capsys)
    assert code == 0 and doc["uncovered"] == 0, doc
    assert _gqa_finding(doc)["plugin"] == PLUGIN

    out = tmp_path / "int8_cache.plugins.onnx"
    assert main(["rewrite", str(path), "-o", str(out), *STATIC[1:], "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    (gqa,) = [c for c in changes if c["op"] == "com.microsoft::GroupQueryAttention"]
    assert gqa["action"] == "replaced", gqa
    rewritten = onnx.load(out)
    (plugin,) = [n for n in rewritten.graph.node if n.op_type == PLUGIN]
    assert list(plugin.input[12:14]) == ["k_scale", "v_scale"] and len(plugin.input) == 15  # + the total copy
    types = {v.name: v.type.tensor_type.elem_type for v in [*rewritten.graph.output, *rewritten.graph.value_info]}
    assert all(t == TensorProto.INT8 for n, t in types.items() if n.startswith("present_")), types


def test_a_node_the_plugin_cannot_take_is_not_covered(tmp_path: Path, capsys) -> None:
    path = tmp_path / "uint4_cache.onnx"
    onnx.save(_int8_cache_layer(bits=4), path)
    code, doc = _check(path, capsys)
    finding = _gqa_finding(doc)
    assert code == 1 and doc["uncovered"] == 1, doc
    assert finding["plugin"] is None and finding["kind"] == "rejected"
    assert f"{PLUGIN} cannot take this node" in finding["reason"] and "(past_key) is uint8" in finding["reason"]

    out = tmp_path / "uint4_cache.plugins.onnx"
    assert main(["rewrite", str(path), "-o", str(out), *STATIC[1:], "--json"]) == 0
    (left,) = [c for c in json.loads(capsys.readouterr().out)["changes"] if c["action"] == "left"]
    assert left["op"] == "com.microsoft::GroupQueryAttention"
    code, doc = _check(out, capsys)  # the rewritten model still holds it
    assert code == 1 and _gqa_finding(doc)["plugin"] is None, doc


def test_list_model_agrees_with_the_rewrite(tmp_path: Path, capsys) -> None:
    path = tmp_path / "uint4_cache.onnx"
    onnx.save(_int8_cache_layer(bits=4), path)
    capsys.readouterr()
    assert main(["list", "--model", str(path), "--json"]) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    (gqa,) = [n for n in nodes if n["op_type"] == "GroupQueryAttention"]
    assert gqa["plugin"] == "" and f"{PLUGIN} cannot take this node" in gqa["note"]

    for model in (layer.decoder_layer(), _int8_cache_layer()):
        onnx.save(model, path)
        assert main(["list", "--model", str(path), "--json"]) == 0
        nodes = json.loads(capsys.readouterr().out)["nodes"]
        assert [n["plugin"] for n in nodes if n["op_type"] == "GroupQueryAttention"] == [PLUGIN]
        assert all(n["note"] == "" for n in nodes)
