"""A BERT-like encoder in the form ONNX Runtime's transformer optimizer leaves it (attention fusion
off): EmbedLayerNormalization, then per layer MatMul attention, SkipLayerNormalization with bias,
a feed-forward block with BiasGelu / FastGelu / Gelu / QuickGelu, and SkipSimplifiedLayerNormalization
in the last layer (the T5-style RMS form). Random weights; built with onnx.helper."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ACTIVATIONS = ("BiasGelu", "FastGelu", "Gelu", "QuickGelu")


@dataclass(frozen=True)
class Dims:
    hidden: int = 32
    ffn: int = 64
    vocab: int = 50
    max_pos: int = 16
    scale: float = 0.2  # weight standard deviation


SMALL = Dims()
BERT_BASE = Dims(hidden=768, ffn=3072, vocab=30522, max_pos=512, scale=0.02)  # 110M parameters


class _Builder:
    def __init__(self, rng: np.random.Generator, dims: Dims) -> None:
        self.rng, self.dims, self.nodes, self.inits = rng, dims, [], []

    def weight(self, name: str, shape: tuple[int, ...], scale: float | None = None) -> str:
        std = self.dims.scale if scale is None else scale
        self.inits.append(numpy_helper.from_array((self.rng.standard_normal(shape) * std).astype(np.float32), name))
        return name

    def gamma(self, name: str) -> str:
        value = (1.0 + 0.1 * self.rng.standard_normal(self.dims.hidden)).astype(np.float32)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs) -> None:
        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0] + "_node", domain=domain, **attrs))


def _attention(b: _Builder, x: str, layer: int) -> str:
    hidden = b.dims.hidden
    q, k, v = (b.weight(f"l{layer}_w{n}", (hidden, hidden)) for n in "qkv")
    b.node("MatMul", [x, q], [f"l{layer}_q"])
    b.node("MatMul", [x, k], [f"l{layer}_k"])
    b.node("MatMul", [x, v], [f"l{layer}_v"])
    b.node("Transpose", [f"l{layer}_k"], [f"l{layer}_kt"], perm=[0, 2, 1])
    b.node("MatMul", [f"l{layer}_q", f"l{layer}_kt"], [f"l{layer}_scores"])
    b.node("Mul", [f"l{layer}_scores", "attn_scale"], [f"l{layer}_scaled"])
    b.node("Softmax", [f"l{layer}_scaled"], [f"l{layer}_probs"], axis=-1)
    b.node("MatMul", [f"l{layer}_probs", f"l{layer}_v"], [f"l{layer}_ctx"])
    b.node("MatMul", [f"l{layer}_ctx", b.weight(f"l{layer}_wo", (hidden, hidden))], [f"l{layer}_attn"])
    return f"l{layer}_attn"


def _feed_forward(b: _Builder, x: str, layer: int, activation: str) -> str:
    hidden, ffn = b.dims.hidden, b.dims.ffn
    b.node("MatMul", [x, b.weight(f"l{layer}_w1", (hidden, ffn))], [f"l{layer}_h"])
    bias = b.weight(f"l{layer}_b1", (ffn,), 0.5)
    if activation in ("BiasGelu", "FastGelu"):
        b.node(activation, [f"l{layer}_h", bias], [f"l{layer}_act"], domain="com.microsoft")
    else:
        b.node("Add", [f"l{layer}_h", bias], [f"l{layer}_hb"])
        attrs = {"alpha": 1.702} if activation == "QuickGelu" else {}
        b.node(activation, [f"l{layer}_hb"], [f"l{layer}_act"], domain="com.microsoft", **attrs)
    b.node("MatMul", [f"l{layer}_act", b.weight(f"l{layer}_w2", (ffn, hidden))], [f"l{layer}_ffn"])
    return f"l{layer}_ffn"


def encoder_model(layers: int = len(ACTIVATIONS), seed: int = 0, dims: Dims = SMALL) -> onnx.ModelProto:
    b = _Builder(np.random.default_rng(seed), dims)
    hidden = dims.hidden
    b.inits.append(numpy_helper.from_array(np.array(hidden**-0.5, np.float32), "attn_scale"))
    embeddings = [b.weight("word_emb", (dims.vocab, hidden)), b.weight("pos_emb", (dims.max_pos, hidden))]
    b.node(
        "EmbedLayerNormalization",
        ["input_ids", "segment_ids", *embeddings, b.weight("seg_emb", (2, hidden)), b.gamma("emb_g"), "emb_b", "mask"],
        ["x0", "mask_index"],
        domain="com.microsoft",
        epsilon=1e-12,
    )
    b.weight("emb_b", (hidden,), 0.1)
    x = "x0"
    for layer in range(layers):
        attn = _attention(b, x, layer)
        ln1 = [b.gamma(f"l{layer}_g1"), b.weight(f"l{layer}_be1", (hidden,), 0.1), b.weight(f"l{layer}_bo", (hidden,))]
        b.node("SkipLayerNormalization", [attn, x, *ln1], [f"l{layer}_ln1"], domain="com.microsoft", epsilon=1e-12)
        ffn = _feed_forward(b, f"l{layer}_ln1", layer, ACTIVATIONS[layer % len(ACTIVATIONS)])
        last = layer == layers - 1
        if last:  # the RMS form, as T5-style encoders fuse it
            inputs = [ffn, f"l{layer}_ln1", b.gamma(f"l{layer}_g2")]
            b.node("SkipSimplifiedLayerNormalization", inputs, [f"l{layer}_out"], domain="com.microsoft", epsilon=1e-6)
        else:
            ln2 = [b.gamma(f"l{layer}_g2"), b.weight(f"l{layer}_be2", (hidden,), 0.1)]
            b.node("SkipLayerNormalization", [ffn, f"l{layer}_ln1", *ln2], [f"l{layer}_out"], domain="com.microsoft")
        x = f"l{layer}_out"
    ids = [helper.make_tensor_value_info(n, TensorProto.INT32, ["batch", "seq"]) for n in ("input_ids", "segment_ids")]
    mask = helper.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "seq"])
    outputs = [
        helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "seq", hidden]),
        helper.make_tensor_value_info("mask_index", TensorProto.INT32, ["batch"]),
    ]
    graph = helper.make_graph(b.nodes, "encoder", [*ids, mask], outputs, initializer=b.inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)
