"""com.microsoft GroupQueryAttention's fused per-head Q/K RMS norm taken back out of the node.

ONNX Runtime 1.24+ gives GroupQueryAttention the inputs q_norm_weight and k_norm_weight (14, 15,
each [head_size]) and the attributes qk_norm_epsilon (default 1e-6) and q_norm_epsilon /
k_norm_epsilon (overrides): a per-head RMS norm of Q and K before the rotary step. ONNX Runtime
GenAI's builder folds Qwen3's Reshape -> SimplifiedLayerNormalization -> Reshape stacks into them
for its CUDA models; ONNX Runtime's CPU kernel refuses them. This pass writes the stack back:

    q' = Reshape(SimplifiedLayerNormalization(Reshape(q, [0, 0, N, H]), q_norm_weight), [0, 0, N H])

(k' likewise with kv_num_heads; a packed query is split into q, k, v first) and a
GroupQueryAttention on q', k', v without the norm inputs and attributes: the same computation,
which trtplug's GroupQueryAttention and SimplifiedLayerNorm plugins then cover, and which model
parity's reference runs on ONNX Runtime's CPU. A quantized cache's k_scale/v_scale stay on the
node (GenAI's int8 KV cache); nodes with query_seqlens, or a norm weight of unknown length, are
left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

from trtplug.onnx_common import attr_subgraphs

K_SCALE, V_SCALE, Q_NORM, K_NORM, QUERY_SEQLENS = 12, 13, 14, 15, 16
NORM_ATTRIBUTES = ("qk_norm_epsilon", "q_norm_epsilon", "k_norm_epsilon")
DEFAULT_EPSILON = 1e-6


@dataclass
class Unfused:
    node: str  # the GroupQueryAttention node's name (kept by its replacement)
    norms: list[str]  # the SimplifiedLayerNormalization nodes written for it

    def note(self) -> str:
        return f"q/k RMS norm inputs unfused into SimplifiedLayerNormalization {', '.join(self.norms)}"


def _input(node: onnx.NodeProto, index: int) -> str:
    return node.input[index] if len(node.input) > index else ""


def has_qk_norm(node: onnx.NodeProto) -> bool:
    return node.domain == "com.microsoft" and node.op_type == "GroupQueryAttention" and bool(_input(node, Q_NORM))


class _Names:
    """Fresh tensor and node names next to those the graph holds."""

    def __init__(self, graph: onnx.GraphProto):
        self.taken = {t.name for t in graph.initializer} | {v.name for v in graph.input}
        self.taken |= {name for n in graph.node for name in (*n.input, *n.output, n.name)}

    def fresh(self, base: str) -> str:
        name, index = base, 1
        while name in self.taken:
            name, index = f"{base}_{index}", index + 1
        self.taken.add(name)
        return name


def _norm_length(graph: onnx.GraphProto, name: str) -> int | None:
    """The length of a 1-D norm weight: an initializer's, or a declared input/value_info's."""
    for tensor in graph.initializer:
        if tensor.name == name:
            return int(tensor.dims[0]) if len(tensor.dims) == 1 else None
    for value in (*graph.input, *graph.value_info):
        dims = value.type.tensor_type.shape.dim
        if value.name == name and len(dims) == 1 and dims[0].HasField("dim_value"):
            return int(dims[0].dim_value)
    return None


def _refusal(graph: onnx.GraphProto, node: onnx.NodeProto) -> str | None:
    heads = {a.name: a for a in node.attribute if a.name in ("num_heads", "kv_num_heads")}
    if len(heads) != 2 or any(a.type != onnx.AttributeProto.INT or a.i < 1 for a in heads.values()):
        return "num_heads and kv_num_heads must be positive ints"
    epsilons = [a for a in node.attribute if a.name in NORM_ATTRIBUTES]
    if any(a.type != onnx.AttributeProto.FLOAT or not 0 < a.f < float("inf") for a in epsilons):
        return "the norm epsilons must be positive finite floats"
    if _input(node, QUERY_SEQLENS):
        return "query_seqlens"
    if not _input(node, K_NORM):
        return "q_norm_weight without k_norm_weight"
    lengths = {_norm_length(graph, _input(node, i)) for i in (Q_NORM, K_NORM)}
    if None in lengths or len(lengths) != 1:
        return "norm weights of unknown or unequal lengths"
    return None


def _epsilon(attributes: dict, which: str) -> float:
    value = attributes.get(f"{which}_norm_epsilon", attributes.get("qk_norm_epsilon", DEFAULT_EPSILON))
    return float(value)


class _Writer:
    """Writes the stack of one node into `nodes` and constants into `initializers`."""

    def __init__(self, names: _Names, node: onnx.NodeProto, opset: int):
        self.node, self.opset, self.names = node, opset, names
        self.label = node.name or node.output[0]
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, suffix: str, values: list[int]) -> str:
        name = self.names.fresh(f"{self.label}/{suffix}")
        self.initializers.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def add(self, op_type: str, inputs: list[str], suffix: str, outputs: int = 1, **attrs) -> list[str]:
        names = [self.names.fresh(f"{self.label}/{suffix}_out{i}") for i in range(outputs)]
        name = self.names.fresh(f"{self.label}/{suffix}")
        self.nodes.append(helper.make_node(op_type, inputs, names, name=name, **attrs))
        return names

    def split_packed(self, heads: int, kv_heads: int, size: int) -> list[str]:
        widths = [heads * size, kv_heads * size, kv_heads * size]
        if self.opset >= 13:
            return self.add("Split", [self.node.input[0], self.constant("qkv_widths", widths)], "split_qkv", 3, axis=-1)
        return self.add("Split", [self.node.input[0]], "split_qkv", 3, axis=-1, split=widths)

    def normed(self, tensor: str, weight: str, heads: int, size: int, epsilon: float, which: str) -> str:
        heads_shape = self.constant(f"{which}_heads_shape", [0, 0, heads, size])
        [per_head] = self.add("Reshape", [tensor, heads_shape], f"{which}_heads")
        [norm] = self.add(
            "SimplifiedLayerNormalization", [per_head, weight], f"{which}_norm", axis=-1, epsilon=epsilon, stash_type=1
        )
        flat_shape = self.constant(f"{which}_flat_shape", [0, 0, heads * size])
        return self.add("Reshape", [norm, flat_shape], f"{which}_flat")[0]


def _unfuse(writer: _Writer, size: int) -> tuple[onnx.NodeProto, Unfused]:
    """The GroupQueryAttention without the norm; the stack before it goes into `writer`."""
    node = writer.node
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    heads, kv_heads = int(attributes["num_heads"]), int(attributes["kv_num_heads"])
    q, k, v = writer.split_packed(heads, kv_heads, size) if not _input(node, 1) else node.input[:3]
    q = writer.normed(q, node.input[Q_NORM], heads, size, _epsilon(attributes, "q"), "q")
    k = writer.normed(k, node.input[K_NORM], kv_heads, size, _epsilon(attributes, "k"), "k")
    inputs = [q, k, v, *node.input[3:K_SCALE], _input(node, K_SCALE), _input(node, V_SCALE)]
    while inputs and not inputs[-1]:
        inputs.pop()
    kept = [a for a in node.attribute if a.name not in NORM_ATTRIBUTES]
    attention = helper.make_node(node.op_type, inputs, list(node.output), name=node.name, domain=node.domain)
    attention.attribute.extend(kept)
    norms = [n.name for n in writer.nodes if n.op_type == "SimplifiedLayerNormalization"]
    return attention, Unfused(node.name, norms)


def unfuse_qk_norms(graph: onnx.GraphProto, opset: int) -> tuple[list[Unfused], dict[str, str]]:
    """Unfuse every such node of `graph` and its bodies in place: what was unfused, and why
    the others were left (node name -> reason)."""
    done, left = [], {}
    rebuilt: list[onnx.NodeProto] = []
    names = None  # the graph's names, gathered once when a node is unfused
    for node in graph.node:
        for attr in node.attribute:
            for body in attr_subgraphs(attr):
                inner_done, inner_left = unfuse_qk_norms(body, opset)
                done += inner_done
                left.update(inner_left)
        if not has_qk_norm(node):
            rebuilt.append(node)
            continue
        if reason := _refusal(graph, node):
            left[node.name] = reason
            rebuilt.append(node)
            continue
        names = names or _Names(graph)
        writer = _Writer(names, node, opset)
        attention, unfused = _unfuse(writer, _norm_length(graph, node.input[Q_NORM]))
        rebuilt += [*writer.nodes, attention]
        graph.initializer.extend(writer.initializers)
        done.append(unfused)
    if done or left:
        del graph.node[:]
        graph.node.extend(rebuilt)
    return done, left
