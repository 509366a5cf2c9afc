"""MoE and QMoE nodes ONNX Runtime's CPU kernels cannot run (geglu, Gemma 4's experts: CUDA-only
there), for model parity's reference: the same mixture written as standard ONNX ops over every
expert (dense: each token through all E experts, weighted by its routing row with zeros off its
top k), in float32, so ONNX Runtime runs the original model. QMoE's weights are dequantized by its
reference (plugins/qmoe/reference.py). Routing as the op's: softmax over router_probs, the top k
(ONNX TopK breaks exact ties to the lower expert where ONNX Runtime's MoE takes the higher; random
logits do not tie), divided by their sum when normalize_routing_weights. Top-level nodes whose
weights are initializers only; the float weights go into the in-memory model, so a size cap holds."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from trtplug.parity.qmoe_exact import MAX_FLOAT_BYTES, node_attrs, node_inputs, qmoe_reference

_FLOAT = TensorProto.FLOAT


def _geglu(node: onnx.NodeProto) -> bool:
    return (
        node.domain == "com.microsoft"
        and node.op_type in ("MoE", "QMoE")
        and (node_attrs(node).get("activation_type") == "geglu")
    )


def has_geglu_moe(model: onnx.ModelProto) -> bool:
    return any(_geglu(n) for n in model.graph.node)


def _float_weights(node: onnx.NodeProto, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> dict[str, Any]:
    if node.op_type == "QMoE":
        return qmoe_reference().float_weights(arrays, attrs)
    return {k: v.astype(np.float32) for k, v in arrays.items() if k.startswith("fc")}


class _Builder:
    """Nodes and initializers of one dense mixture, names prefixed by the node's."""

    def __init__(self, base: str) -> None:
        self.base, self.nodes, self.inits = base, [], []

    def const(self, name: str, value: np.ndarray) -> str:
        full = f"{self.base}/dense_{name}"
        self.inits.append(numpy_helper.from_array(value, full))
        return full

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        out = f"{self.base}/dense_{len(self.nodes)}_{op_type}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def _routing(b: _Builder, logits: str, experts: int, attrs: dict[str, Any]) -> str:
    """[tokens, E] weights: softmax over the logits, zero off the top k, normalized when asked."""
    probs = b.op("Softmax", [logits], axis=-1)
    k = b.const("k", np.array([int(attrs.get("k", 1))], np.int64))
    chosen = f"{b.base}/dense_topk_indices"
    b.nodes.append(helper.make_node("TopK", [logits, k], [f"{b.base}/dense_topk_values", chosen], axis=-1))
    zero, one = b.const("zero", np.zeros(1, np.float32)), b.const("one", np.ones(1, np.float32))
    zeros = b.op("Mul", [probs, zero])  # [tokens, E]
    ones = b.op("Add", [b.op("Mul", [b.op("Cast", [chosen], to=_FLOAT), zero]), one])  # [tokens, k]
    mask = b.op("ScatterElements", [zeros, chosen, ones], axis=-1)
    weights = b.op("Mul", [probs, mask])
    if int(attrs.get("normalize_routing_weights", 0)):
        total = b.op("ReduceSum", [weights, b.const("last", np.array([-1], np.int64))], keepdims=1)
        weights = b.op("Div", [weights, total])
    return weights


def _gelu_tanh(b: _Builder, g: str) -> str:
    cube = b.op("Mul", [g, b.op("Mul", [g, g])])
    inner = b.op("Add", [g, b.op("Mul", [cube, b.const("c", np.array([0.044715], np.float32))])])
    tanh = b.op("Tanh", [b.op("Mul", [inner, b.const("s", np.array([np.sqrt(2.0 / np.pi)], np.float32))])])
    half = b.op("Mul", [g, b.const("half", np.array([0.5], np.float32))])
    return b.op("Mul", [half, b.op("Add", [tanh, b.const("one_g", np.ones(1, np.float32))])])


def _dense_nodes(node: onnx.NodeProto, w: dict[str, np.ndarray], attrs: dict[str, Any]) -> _Builder:
    b = _Builder(node.name or node.output[0])
    experts, hidden = w["fc2_experts_weights"].shape[:2]
    rows, routes = (
        b.const("rows", np.array([-1, hidden], np.int64)),
        b.const("routes", np.array([-1, experts], np.int64)),
    )
    x = b.op("Reshape", [b.op("Cast", [node.input[0]], to=_FLOAT), rows])
    logits = b.op("Reshape", [b.op("Cast", [node.input[1]], to=_FLOAT), routes])
    weights = _routing(b, logits, experts, attrs)
    h = b.op("Einsum", [x, b.const("w1", w["fc1_experts_weights"])], equation="th,enh->ten")
    if "fc1_experts_bias" in w:
        h = b.op("Add", [h, b.const("b1", w["fc1_experts_bias"])])
    if int(attrs.get("swiglu_fusion", 0)) == 1:  # [g0, l0, g1, l1, ...]
        pairs = b.op("Reshape", [h, b.const("pairs", np.array([0, 0, -1, 2], np.int64))])
        g, lin = (b.op("Gather", [pairs, b.const(f"half{i}", np.array(i, np.int64))], axis=3) for i in (0, 1))
    else:  # [g | l]
        inter = w["fc1_experts_weights"].shape[1] // 2
        cut = [b.const(f"cut{i}", np.array([i * inter], np.int64)) for i in range(3)]
        axis = b.const("axis", np.array([2], np.int64))
        g, lin = b.op("Slice", [h, cut[0], cut[1], axis]), b.op("Slice", [h, cut[1], cut[2], axis])
    act = b.op("Mul", [_gelu_tanh(b, g), lin])
    y = b.op("Einsum", [act, b.const("w2", w["fc2_experts_weights"])], equation="tei,ehi->teh")
    if "fc2_experts_bias" in w:
        y = b.op("Add", [y, b.const("b2", w["fc2_experts_bias"])])
    mixed = b.op("Einsum", [weights, y], equation="te,teh->th")
    shaped = b.op("Reshape", [mixed, b.op("Shape", [node.input[0]])])
    b.nodes.append(helper.make_node("CastLike", [shaped, node.input[0]], list(node.output), name=f"{b.base}/dense_out"))
    return b


def dense_geglu_moe(model: onnx.ModelProto, folder: str | None) -> int:
    """Replace the top-level geglu MoE/QMoE nodes by their dense standard-op mixture (module
    docstring); the count replaced. `folder` holds external data."""
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    kept: list[onnx.NodeProto] = []
    replaced = 0
    for node in graph.node:
        inputs = node_inputs(node) if _geglu(node) else {}
        constants = {k: t for k, t in inputs.items() if k not in ("input", "router_probs")}
        if not inputs or any(t not in initializers for t in constants.values()):
            kept.append(node)
            continue
        arrays = {k: numpy_helper.to_array(initializers[t], base_dir=folder or "") for k, t in constants.items()}
        attrs = node_attrs(node)
        w = {k: v.astype(np.float32) for k, v in _float_weights(node, arrays, attrs).items()}
        if sum(v.nbytes for v in w.values()) > MAX_FLOAT_BYTES:
            kept.append(node)
            continue
        built = _dense_nodes(node, w, attrs)
        kept += built.nodes
        graph.initializer.extend(built.inits)
        replaced += 1
    if replaced:
        del graph.node[:]
        graph.node.extend(kept)
    return replaced
