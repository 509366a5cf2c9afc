"""GroupQueryAttention's fused per-head Q/K RMS norm (q_norm_weight, k_norm_weight: GenAI 0.18's
Qwen3 for CUDA) written back out as Reshape -> SimplifiedLayerNormalization -> Reshape
(graph_rewrites/gqa_qk_norm.py): the unfused graph in ONNX Runtime's CPU equals an independent
computation (a NumPy per-head RMS norm fed to ONNX Runtime's GroupQueryAttention without the norm),
for separate and packed QKV and per-tensor epsilons; the rewrite of a decoder layer with the fused
norm replaces every node and passes model parity (its reference unfuses the original, which ONNX
Runtime's CPU kernel refuses, and says so); nodes it cannot unfuse keep a reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from graph_rewrites.gqa_qk_norm import unfuse_qk_norms
from tests import gqa_decoder_model as layer
from trtplug.cli import main

ort = pytest.importorskip("onnxruntime")
SEQ, HEADS, KV_HEADS, HEAD, PAST = 5, 4, 2, 16, 3
EPS = {"qk_norm_epsilon": 1e-5, "k_norm_epsilon": 0.5}  # k's override is large enough to matter


def gqa_model(packed: bool, norm: bool, rng: np.random.Generator, opset: int = 21) -> onnx.ModelProto:
    """One GroupQueryAttention (batch 1: ONNX Runtime's CPU takes several new tokens after a past
    only there), with the fused norm when `norm`."""
    qkv = ["qkv", "", ""] if packed else ["q", "k", "v"]
    norms = ["", "", "", "", "", "q_w", "k_w"] if norm else []
    inputs = [*qkv, "past_k", "past_v", "seqlens_k", "total", "", "", *norms]
    while not inputs[-1]:
        inputs.pop()
    node = helper.make_node(
        "GroupQueryAttention", inputs, ["out", "present_k", "present_v"], domain="com.microsoft", name="gqa",
        num_heads=HEADS, kv_num_heads=KV_HEADS, **(EPS if norm else {}),
    )  # fmt: skip
    weights = [(1 + 0.3 * rng.standard_normal(HEAD)).astype(np.float32) for _ in range(2)]
    inits = [numpy_helper.from_array(w, n) for w, n in zip(weights, ("q_w", "k_w"), strict=True)] if norm else []
    widths = {"qkv": (HEADS + 2 * KV_HEADS) * HEAD, "q": HEADS * HEAD, "k": KV_HEADS * HEAD, "v": KV_HEADS * HEAD}
    values = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, SEQ, widths[n]]) for n in qkv if n]
    cache = [1, KV_HEADS, PAST, HEAD]
    values += [helper.make_tensor_value_info(n, TensorProto.FLOAT, cache) for n in ("past_k", "past_v")]
    values += [helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, [1])]
    values += [helper.make_tensor_value_info("total", TensorProto.INT32, [])]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("out", "present_k", "present_v")]
    graph = helper.make_graph([node], "gqa", values, outs, inits)
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)


def rms_per_head(x: np.ndarray, weight: np.ndarray, heads: int, epsilon: float) -> np.ndarray:
    per_head = x.reshape(1, SEQ, heads, HEAD).astype(np.float64)
    normed = per_head / np.sqrt((per_head**2).mean(-1, keepdims=True) + epsilon) * weight
    return normed.reshape(1, SEQ, heads * HEAD).astype(np.float32)


@pytest.mark.parametrize(
    ("packed", "opset"), [(False, 21), (True, 21), (True, 11)]
)  # Split's sizes: input or attribute
def test_unfused_graph_equals_an_independent_norm(packed: bool, opset: int) -> None:
    rng = np.random.default_rng(7)
    fused = gqa_model(packed, True, rng, opset)
    q_w, k_w = (numpy_helper.to_array(t) for t in fused.graph.initializer)
    q, k, v = (rng.standard_normal((1, SEQ, h * HEAD)).astype(np.float32) for h in (HEADS, KV_HEADS, KV_HEADS))
    cache = {n: rng.standard_normal((1, KV_HEADS, PAST, HEAD)).astype(np.float32) for n in ("past_k", "past_v")}
    lengths = {"seqlens_k": np.array([PAST + SEQ - 1], np.int32), "total": np.array(PAST + SEQ, np.int32)}
    fresh = {"qkv": np.concatenate([q, k, v], -1)} if packed else {"q": q, "k": k, "v": v}
    with pytest.raises(Exception, match=r"[qk]_norm"):  # ONNX Runtime's CPU: the reason this pass exists
        run(fused, {**fresh, **cache, **lengths})
    done, left = unfuse_qk_norms(fused.graph, opset)
    assert [u.node for u in done] == ["gqa"] and not left
    assert "SimplifiedLayerNormalization" in [n.op_type for n in fused.graph.node]
    got = run(fused, {**fresh, **cache, **lengths})
    normed = [
        rms_per_head(q, q_w, HEADS, EPS["qk_norm_epsilon"]),
        rms_per_head(k, k_w, KV_HEADS, EPS["k_norm_epsilon"]),
    ]
    plain = gqa_model(packed, False, rng, opset)
    ref_fresh = {"qkv": np.concatenate([*normed, v], -1)} if packed else {"q": normed[0], "k": normed[1], "v": v}
    want = run(plain, {**ref_fresh, **cache, **lengths})
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=2e-6, rtol=2e-6)


def test_decoder_layer_rewrites_and_passes_model_parity(tmp_path: Path, capsys) -> None:
    path, out, feeds = tmp_path / "m.onnx", tmp_path / "out.onnx", tmp_path / "feeds.npz"
    onnx.save(layer.decoder_layer(qk_norm=True), path)
    assert main(["rewrite", str(path), "-o", str(out), "--trt-version", "10.16", "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    (attention,) = [c for c in changes if c["op"] == "com.microsoft::GroupQueryAttention"]
    assert attention["action"] == "replaced" and "unfused into SimplifiedLayerNormalization" in attention["mapping"][0]
    ops = [n.op_type for n in onnx.load(out).graph.node]
    assert ops.count("TrtplugSimplifiedLayerNorm") == 2 and "GroupQueryAttention" not in ops
    rng = np.random.default_rng(5)
    np.savez(feeds, **layer.prefill_feeds(rng, [6, 4], seq=6))
    assert main(["parity", "--model", str(path), "--rewritten", str(out), "--inputs", str(feeds), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and "q/k RMS norms of 1 GroupQueryAttention" in result["reference"]
    assert onnx.load(path).graph.node[-3].input[14] == "q_norm_weight"  # the file as it was


def test_query_seqlens_and_exclusion_keep_the_fused_node(tmp_path: Path, capsys) -> None:
    model = layer.decoder_layer(qk_norm=True)
    (node,) = [n for n in model.graph.node if n.op_type == "GroupQueryAttention"]
    node.input.extend(["seqlens_k"])  # any int32 tensor as query_seqlens (input 16)
    path, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, path)
    main(["rewrite", str(path), "-o", str(out), "--trt-version", "10.16", "--json"])
    (left,) = [c for c in json.loads(capsys.readouterr().out)["changes"] if c["action"] == "left"]
    assert "not unfused: query_seqlens" in left["reason"]
    onnx.save(layer.decoder_layer(qk_norm=True), path)
    main(["rewrite", str(path), "-o", str(out), "--trt-version", "10.16", "--exclude", "GroupQueryAttention"])
    assert still_fused(out)


def test_a_quantized_cache_keeps_its_scales_when_unfused(tmp_path: Path) -> None:
    model = layer.decoder_layer(qk_norm=True)
    (node,) = [n for n in model.graph.node if n.op_type == "GroupQueryAttention"]
    node.input[12], node.input[13] = "k_scale", "v_scale"
    model.graph.initializer.extend(
        onnx.numpy_helper.from_array(np.full(1, 0.02, np.float32), n) for n in ("k_scale", "v_scale")
    )
    done, left = unfuse_qk_norms(model.graph, 17)
    (attention,) = [n for n in model.graph.node if n.op_type == "GroupQueryAttention"]
    assert len(done) == 1 and not left and list(attention.input[12:]) == ["k_scale", "v_scale"]


@pytest.mark.parametrize(
    ("drop", "bad", "reason"),
    [("kv_num_heads", None, "kv_num_heads"), ("", helper.make_attribute("qk_norm_epsilon", "1e-6"), "epsilons")],
)
def test_malformed_nodes_are_left_with_a_reason(drop: str, bad, reason: str) -> None:
    model = gqa_model(False, True, np.random.default_rng(0))
    node = model.graph.node[0]
    kept = [a for a in node.attribute if a.name != drop and (bad is None or a.name != bad.name)]
    del node.attribute[:]
    node.attribute.extend([*kept, *([bad] if bad is not None else [])])
    done, left = unfuse_qk_norms(model.graph, 21)
    assert not done and reason in left["gqa"]


def test_excluding_the_plugin_by_name_keeps_the_fused_node(tmp_path: Path) -> None:
    path, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(layer.decoder_layer(qk_norm=True), path)
    main(["rewrite", str(path), "-o", str(out), "--trt-version", "10.16", "--exclude", "TrtplugGroupQueryAttention"])
    assert still_fused(out)


def still_fused(path: Path) -> bool:
    """The GroupQueryAttention left in `path` still reads its norm weights (nothing was unfused:
    the unfused norms would have become TrtplugSimplifiedLayerNorm nodes, so op types cannot tell)."""
    (node,) = [n for n in onnx.load(path).graph.node if n.op_type == "GroupQueryAttention"]
    return list(node.input[14:16]) == ["q_norm_weight", "k_norm_weight"]
