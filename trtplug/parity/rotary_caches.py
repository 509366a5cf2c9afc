"""ai.onnx RotaryEmbedding caches shared by the batch, for ONNX Runtime as model parity's reference.

torch.onnx's dynamo exporter writes Llama/Qwen rotary caches as [1, S, H/2] for an input of any
batch (transformers computes them once); onnx.reference and trtplug's plugins read them so, and
ONNX Runtime 1.30-1.32 refuses them ("expected to have the same shape as input 'x', got 1 and B").
The reference's copy expands each such cache to the input's batch (Shape, Concat, Expand before the
node): the same values, in a form ONNX Runtime runs, so a model that also holds ops onnx.reference
lacks (an ONNX Runtime quantizer's MatMulNBits) still gets a reference."""

from __future__ import annotations

import onnx
from onnx import helper

from trtplug.onnx_common import is_standard_domain


def _leading_dims(model: onnx.ModelProto) -> dict[str, int | str | None]:
    """Each tensor's first dim where shape inference knows its rank (int, dim_param or None)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:  # inference is a help here: without it no cache is known to be shared
        return {}
    firsts: dict[str, int | str | None] = {}
    for value in [*inferred.graph.input, *inferred.graph.value_info]:
        dims = value.type.tensor_type.shape.dim
        if dims:
            firsts[value.name] = dims[0].dim_value if dims[0].HasField("dim_value") else dims[0].dim_param or None
    for tensor in model.graph.initializer:
        firsts[tensor.name] = tensor.dims[0] if tensor.dims else None
    return firsts


def batch_shared_cache_nodes(model: onnx.ModelProto) -> list[int]:
    """Indices of the top-level ai.onnx RotaryEmbedding nodes without position_ids whose caches have
    a batch of 1 where the input's batch is not known to be 1."""
    nodes = [
        i
        for i, n in enumerate(model.graph.node)
        if n.op_type == "RotaryEmbedding" and is_standard_domain(n.domain) and (len(n.input) < 4 or not n.input[3])
    ]
    if not nodes:
        return []
    firsts = _leading_dims(model)
    graph = model.graph.node
    return [i for i in nodes if firsts.get(graph[i].input[1]) == 1 and firsts.get(graph[i].input[0]) != 1]


def expand_batch_shared_caches(model: onnx.ModelProto, indices: list[int] | None = None) -> int:
    """Expand the caches of the nodes at `indices` (by default batch_shared_cache_nodes(model), which
    runs shape inference) to their input's batch, in place; returns how many nodes changed."""
    targets = set(batch_shared_cache_nodes(model) if indices is None else indices)
    if not targets:
        return 0
    nodes: list[onnx.NodeProto] = []
    for index, node in enumerate(model.graph.node):
        copy = onnx.NodeProto()
        copy.CopyFrom(node)  # detached: the graph's list is replaced below
        if index in targets:
            nodes += _expansions(copy, f"trtplug_cache_batch_{index}")
        nodes.append(copy)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return len(targets)


def _expansions(node: onnx.NodeProto, prefix: str) -> list[onnx.NodeProto]:
    """Nodes giving `node`'s caches the batch of its input; rewires the node to read them."""
    batch = f"{prefix}_batch"
    added = [helper.make_node("Shape", [node.input[0]], [batch], start=0, end=1, name=batch)]
    for slot in (1, 2):
        cache, rest, shape, expanded = (f"{prefix}_{slot}_{part}" for part in ("cache", "rest", "shape", "expanded"))
        added += [
            helper.make_node("Shape", [node.input[slot]], [rest], start=1, name=rest),
            helper.make_node("Concat", [batch, rest], [shape], axis=0, name=shape),
            helper.make_node("Expand", [node.input[slot], shape], [expanded], name=cache),
        ]
        node.input[slot] = expanded
    return added
