"""A Qwen3.5-style fragment as ONNX Runtime GenAI 0.18's builder emits it (the sweep's
qwen3_5/fp32_cpu model, layers 0 and 1): the linear-attention tail GatedRMSNorm(x, norm.weight,
z) with epsilon 1e-6 over heads of 32, the gates LinearAttentionGate(a, dt_bias, neg_exp_A, b)
with float32 per-head vectors, and full attention's q/k MRotaryEmbedding (num_heads 4 and 2,
rotary_embedding_dim 8 of 32, mrope_section [2, 1, 1], mrope_layout 1, position_ids [3, B, S] a
graph input). check, rewrite and model parity against ONNX Runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main

HEADS, HEAD, KV_HEADS, LA_HEADS, ROT, MAX_POS = 4, 32, 2, 4, 8, 256
PLUGINS = {"TrtplugGatedRMSNorm", "TrtplugLinearAttentionGate", "TrtplugMRotaryEmbedding"}


def rope_caches() -> tuple[np.ndarray, np.ndarray]:
    inv = 1.0 / (10000 ** (np.arange(0, ROT, 2, dtype=np.float64) / ROT))
    angles = np.outer(np.arange(MAX_POS), inv)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def fragment() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    cos, sin = rope_caches()
    inits = [
        numpy_helper.from_array(rng.standard_normal(HEAD).astype(np.float32), "norm.weight"),
        numpy_helper.from_array(np.ones(LA_HEADS, np.float32), "dt_bias"),
        numpy_helper.from_array(-np.exp(rng.standard_normal(LA_HEADS)).astype(np.float32), "neg_exp_A"),
        numpy_helper.from_array(cos, "cos_cache"),
        numpy_helper.from_array(sin, "sin_cache"),
    ]
    ms = "com.microsoft"
    mrope = {"interleaved": 0, "rotary_embedding_dim": ROT, "mrope_section": [2, 1, 1], "mrope_layout": 1}
    nodes = [
        helper.make_node("GatedRMSNorm", ["la_out", "norm.weight", "z"], ["normed"], domain=ms, epsilon=1e-6),
        helper.make_node("LinearAttentionGate", ["a", "dt_bias", "neg_exp_A", "b"], ["decay", "beta"], domain=ms),
        helper.make_node(
            "MRotaryEmbedding",
            ["q", "position_ids", "cos_cache", "sin_cache"],
            ["q_rot"],
            domain=ms,
            num_heads=HEADS,
            is_packed_batching=0,
            **mrope,
        ),
        helper.make_node(
            "MRotaryEmbedding",
            ["k", "position_ids", "cos_cache", "sin_cache"],
            ["k_rot"],
            domain=ms,
            num_heads=KV_HEADS,
            is_packed_batching=0,
            **mrope,
        ),
    ]
    f32 = lambda name, last: helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "seq", last])  # noqa: E731
    inputs = [f32("la_out", LA_HEADS * HEAD), f32("z", LA_HEADS * HEAD), f32("a", LA_HEADS), f32("b", LA_HEADS)]
    inputs += [f32("q", HEADS * HEAD), f32("k", KV_HEADS * HEAD)]
    inputs.append(helper.make_tensor_value_info("position_ids", TensorProto.INT64, [3, "batch", "seq"]))
    outputs = [f32("normed", LA_HEADS * HEAD), f32("decay", LA_HEADS), f32("beta", LA_HEADS)]
    outputs += [f32("q_rot", HEADS * HEAD), f32("k_rot", KV_HEADS * HEAD)]
    graph = helper.make_graph(nodes, "qwen3_5_fragment", inputs, outputs, inits)
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid(ms, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "qwen3_5_fragment.onnx"
    onnx.save(fragment(), path)
    return path


def test_check_covers_every_node(model: Path, capsys) -> None:
    main(["check", str(model), "--static", "--trt-version", "10.16", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["uncovered"] == 0 or doc["uncovered"] == []
    assert {f["plugin"] for f in doc["findings"]} == PLUGINS


@pytest.mark.parametrize(("batch", "seq"), [(2, 5), (1, 1)], ids=["prompt", "decode"])
def test_rewrite_and_model_parity(model: Path, tmp_path: Path, capsys, batch: int, seq: int) -> None:
    out = tmp_path / "out.onnx"
    assert main(["rewrite", str(model), "-o", str(out)]) == 0
    ops = {n.op_type for n in onnx.load(out).graph.node}
    assert ops == PLUGINS
    capsys.readouterr()
    dims = [f"--dim=batch={batch}", f"--dim=seq={seq}"]
    assert main(["parity", "--model", str(model), "--rewritten", str(out), *dims, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["reference"] == "onnxruntime"
    assert set(result["plugins"]) == PLUGINS
    assert [o["output"] for o in result["outputs"]] == ["normed", "decay", "beta", "q_rot", "k_rot"]


def test_packed_batching_is_left_with_the_reason(tmp_path: Path, capsys) -> None:
    m = fragment()
    for node in m.graph.node:
        for attr in node.attribute:
            if attr.name == "is_packed_batching":
                attr.i = 1
    path, out = tmp_path / "packed.onnx", tmp_path / "out.onnx"
    onnx.save(m, path)
    main(["rewrite", str(path), "-o", str(out)])
    text = capsys.readouterr().out
    assert "is_packed_batching" in text
    assert [n.op_type for n in onnx.load(out).graph.node].count("MRotaryEmbedding") == 2
