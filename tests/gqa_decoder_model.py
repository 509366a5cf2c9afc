"""An ONNX Runtime GenAI-style decoder layer built with onnx.helper: RMS norm (standard ops),
packed QKV projection, com.microsoft GroupQueryAttention with rotary inside and a BNSH KV cache
(seqlens_k and total_sequence_length derived from attention_mask as the model builder does),
output projection and residual; with `qk_norm`, the per-head Q/K RMS norm fused into the node as
GenAI 0.18 writes Qwen3 for CUDA (q_norm_weight, k_norm_weight, qk_norm_epsilon). Random weights;
feeds for a prefill and the decode step after it."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HEADS, KV_HEADS, HEAD = 4, 2, 16
HIDDEN = HEADS * HEAD
MAX_POS = 32


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name)


def _rotary_caches() -> tuple[np.ndarray, np.ndarray]:
    angles = np.arange(MAX_POS)[:, None] * 10000.0 ** (-np.arange(HEAD // 2) / (HEAD // 2))[None]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def _rms_norm(x: str, gamma: str) -> list[onnx.NodeProto]:
    return [
        helper.make_node("Mul", [x, x], ["sq"]),
        helper.make_node("ReduceMean", ["sq", "axis_last"], ["ms"], keepdims=1),
        helper.make_node("Add", ["ms", "eps"], ["ms_eps"]),
        helper.make_node("Sqrt", ["ms_eps"], ["rms"]),
        helper.make_node("Div", [x, "rms"], ["normed"]),
        helper.make_node("Mul", ["normed", gamma], ["normed_scaled"]),
    ]


def _lengths() -> list[onnx.NodeProto]:
    """seqlens_k = sum(attention_mask) - 1 (int32), total_sequence_length = mask width (int32 scalar)."""
    return [
        helper.make_node("ReduceSum", ["attention_mask", "axis1"], ["mask_sum"], keepdims=0),
        helper.make_node("Sub", ["mask_sum", "one64"], ["seqlens64"]),
        helper.make_node("Cast", ["seqlens64"], ["seqlens_k"], to=TensorProto.INT32),
        helper.make_node("Shape", ["attention_mask"], ["mask_shape"]),
        helper.make_node("Gather", ["mask_shape", "one64"], ["total64"], axis=0),
        helper.make_node("Cast", ["total64"], ["total_sequence_length"], to=TensorProto.INT32),
    ]


def decoder_layer(seed: int = 0, qk_norm: bool = False) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    cos, sin = _rotary_caches()
    qkv_width = (HEADS + 2 * KV_HEADS) * HEAD
    inits = [
        _init("eps", np.array([1e-6], np.float32)),
        _init("gamma", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)),
        _init("w_qkv", (rng.standard_normal((HIDDEN, qkv_width)) * 0.2).astype(np.float32)),
        _init("w_o", (rng.standard_normal((HIDDEN, HIDDEN)) * 0.2).astype(np.float32)),
        _init("cos_cache", cos),
        _init("sin_cache", sin),
        _init("axis1", np.array([1], np.int64)),
        _init("axis_last", np.array([-1], np.int64)),
        _init("one64", np.array(1, np.int64)),
    ]
    norms = ["", "", "", "", "", "q_norm_weight", "k_norm_weight"] if qk_norm else []
    inputs = ["qkv", "", "", "past_key", "past_value", "seqlens_k", "total_sequence_length", "cos_cache", "sin_cache"]
    if qk_norm:
        inits += [_init(n, (1 + 0.2 * rng.standard_normal(HEAD)).astype(np.float32)) for n in norms[-2:]]
    gqa = helper.make_node(
        "GroupQueryAttention",
        [*inputs, *norms],
        ["attn", "present_key", "present_value"],
        domain="com.microsoft",
        name="layers.0.attn.GroupQueryAttention",
        num_heads=HEADS,
        kv_num_heads=KV_HEADS,
        do_rotary=1,
        local_window_size=-1,
        **({"qk_norm_epsilon": 1e-5} if qk_norm else {}),
    )
    nodes = [
        *_rms_norm("hidden", "gamma"),
        helper.make_node("MatMul", ["normed_scaled", "w_qkv"], ["qkv"]),
        *_lengths(),
        gqa,
        helper.make_node("MatMul", ["attn", "w_o"], ["attn_out"]),
        helper.make_node("Add", ["hidden", "attn_out"], ["output"]),
    ]
    cache = ["batch", KV_HEADS, "past", HEAD]
    present = ["batch", KV_HEADS, "total", HEAD]
    graph = helper.make_graph(
        nodes,
        "gqa_decoder_layer",
        [
            helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
            helper.make_tensor_value_info("past_key", TensorProto.FLOAT, cache),
            helper.make_tensor_value_info("past_value", TensorProto.FLOAT, cache),
        ],
        [
            helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
            helper.make_tensor_value_info("present_key", TensorProto.FLOAT, present),
            helper.make_tensor_value_info("present_value", TensorProto.FLOAT, present),
        ],
        inits,
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def prefill_feeds(rng: np.random.Generator, lengths: list[int], seq: int) -> dict[str, np.ndarray]:
    """A first prompt of `seq` tokens, batch entry b right-padded to lengths[b] real tokens."""
    batch = len(lengths)
    mask = (np.arange(seq)[None] < np.array(lengths)[:, None]).astype(np.int64)
    empty = np.zeros((batch, KV_HEADS, 0, HEAD), np.float32)
    hidden = rng.standard_normal((batch, seq, HIDDEN)).astype(np.float32)
    return {"hidden": hidden, "attention_mask": mask, "past_key": empty, "past_value": empty.copy()}


def decode_feeds(
    rng: np.random.Generator, mask: np.ndarray, present_key: np.ndarray, present_value: np.ndarray
) -> dict[str, np.ndarray]:
    """One new token per batch entry after a step whose mask and presents are given."""
    batch = mask.shape[0]
    grown = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
    hidden = rng.standard_normal((batch, 1, HIDDEN)).astype(np.float32)
    return {"hidden": hidden, "attention_mask": grown, "past_key": present_key, "past_value": present_value}


def int8_cache_layer(seed: int = 0, bits: int = 8, scale: float = 0.02) -> onnx.ModelProto:
    """decoder_layer as GenAI writes it with an int8 per-tensor KV cache (kv_cache_quant_scheme=
    int8_per_tensor: k_scale/v_scale initializers at inputs 12 and 13, int8 past/present); bits 4:
    the uint8 packed cache of kv_cache_bit_width = 4."""
    model = decoder_layer(seed)
    (gqa,) = [n for n in model.graph.node if n.op_type == "GroupQueryAttention"]
    gqa.input.extend([""] * (12 - len(gqa.input)) + ["k_scale", "v_scale"])
    gqa.attribute.extend(
        [
            helper.make_attribute("k_quant_type", "PER_TENSOR"),
            helper.make_attribute("v_quant_type", "PER_TENSOR"),
            helper.make_attribute("kv_cache_bit_width", bits),
        ]
    )
    model.graph.initializer.extend(_init(name, np.array([scale], np.float32)) for name in ("k_scale", "v_scale"))
    for value in [*model.graph.input, *model.graph.output]:
        if value.name.startswith(("past_", "present_")):
            value.type.tensor_type.elem_type = TensorProto.INT8 if bits == 8 else TensorProto.UINT8
    onnx.checker.check_model(model)
    return model
