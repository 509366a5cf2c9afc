"""onnxruntime-genai 0.18's model builder on gpt-oss, as its fp32 CPU and fp16/bf16 CUDA builds
write each layer (random weights, onnx.helper): GroupQueryAttention on packed QKV with attention
sinks (head_sink) and, on alternate layers, a sliding-window cache (local_window_size,
sliding_window_cache = 1); com.microsoft MoE, top-2 of 4 experts with fused SwiGLU (alpha 1.702,
limit 7), behind the router's MatMul, Add and Reshape; the builder's attention-mask subgraph."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from tests.exporter_models import I64, MS, Weights, _model, attention_mask_nodes, decoder_outputs, io

GPT_OSS = {"hidden": 64, "heads": 4, "kv_heads": 2, "head": 16, "experts": 4, "ffn": 32, "max_pos": 64}
WINDOW = 8  # local_window_size of the windowed layers


def _attention(w: Weights, windowed: bool) -> list[onnx.NodeProto]:
    hidden, heads, kv, head = (GPT_OSS[k] for k in ("hidden", "heads", "kv_heads", "head"))
    inv = 1 / 150000 ** (np.arange(head // 2) / (head // 2))
    angles = np.outer(np.arange(GPT_OSS["max_pos"]), inv)
    caches = [
        w.add("cos_cache", np.cos(angles).astype(np.float32)),
        w.add("sin_cache", np.sin(angles).astype(np.float32)),
    ]
    window = {"local_window_size": WINDOW, "sliding_window_cache": 1} if windowed else {"local_window_size": -1}
    gqa_inputs = ["qkv", "", "", "past_key", "past_value", "seqlens_k", "total_sequence_length", *caches, "", ""]
    return [
        helper.make_node("MatMul", ["h", w.normal("qkv_w", (hidden, (heads + 2 * kv) * head))], ["qkv"]),
        helper.make_node(
            "GroupQueryAttention",
            [*gqa_inputs, w.normal("sinks", (heads,), 1.0)],
            ["attn", "present_key", "present_value"],
            domain=MS,
            name="gqa",
            num_heads=heads,
            kv_num_heads=kv,
            scale=head**-0.5,
            softcap=0.0,
            do_rotary=1,
            rotary_interleaved=0,
            **window,
        ),
        helper.make_node("MatMul", ["attn", w.normal("o_w", (heads * head, hidden))], ["o_mm"]),
        helper.make_node("Add", ["o_mm", w.normal("o_b", (hidden,))], ["o"]),
    ]


def _moe(w: Weights) -> list[onnx.NodeProto]:
    hidden, experts, ffn = GPT_OSS["hidden"], GPT_OSS["experts"], GPT_OSS["ffn"]
    shape = w.add("router_shape", np.array([-1, experts], np.int64))
    weights = [
        w.normal("fc1_w", (experts, 2 * ffn, hidden)),
        w.normal("fc1_b", (experts, 2 * ffn)),
        w.normal("fc2_w", (experts, hidden, ffn)),
        w.normal("fc2_b", (experts, hidden)),
    ]
    swiglu = {"activation_type": "swiglu", "swiglu_fusion": 1, "swiglu_limit": 7.0, "activation_alpha": 1.702}
    return [
        helper.make_node("MatMul", ["h2", w.normal("router_w", (hidden, experts), 1.0)], ["router_mm"]),
        helper.make_node("Add", ["router_mm", w.normal("router_b", (experts,))], ["router_add"]),
        helper.make_node("Reshape", ["router_add", shape], ["router"]),
        helper.make_node(
            "MoE",
            ["h2", "router", *weights],
            ["moe"],
            domain=MS,
            name="moe",
            k=2,
            normalize_routing_weights=1,
            activation_beta=1.0,
            **swiglu,
        ),
    ]


def genai_gpt_oss_layer(windowed: bool) -> onnx.ModelProto:
    """One layer; `windowed`: the sliding-window cache [batch, kv, past_sliding, head]."""
    hidden, kv, head = GPT_OSS["hidden"], GPT_OSS["kv_heads"], GPT_OSS["head"]
    w = Weights(2)
    norm = helper.make_node("SimplifiedLayerNormalization", ["x", w.gamma("ln1", hidden)], ["h"], epsilon=1e-5)
    skip = helper.make_node(
        "SkipSimplifiedLayerNormalization",
        ["x", "o", w.gamma("ln2", hidden)],
        ["h2", "", "", "residual"],
        domain=MS,
        epsilon=1e-5,
    )
    residual = helper.make_node("Add", ["moe", "residual"], ["y"])
    nodes = [*attention_mask_nodes(), norm, *_attention(w, windowed), skip, *_moe(w), residual]
    past = ["batch", kv, "past_sliding" if windowed else "past", head]
    inputs = [
        io("x", shape=["batch", "seq", hidden]),
        io("past_key", shape=past),
        io("past_value", shape=past),
        io("attention_mask", I64, ["batch", "total"]),
    ]
    return _model(nodes, inputs, decoder_outputs(hidden, kv, head, "present_rows"), w, 21)
