"""Walking a model's nodes with the types and constants visible to each, after shape inference."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import onnx

from trtplug.check.extract import Scope
from trtplug.onnx_common import node_label, node_opset, node_subgraphs, opset_versions


@dataclass
class NodeSite:
    path: str
    node: onnx.NodeProto
    scope: Scope
    top_index: int | None  # index in the main graph; None inside If/Loop/Scan bodies
    opset: int


def infer_types(model: onnx.ModelProto, notes: list[str]) -> onnx.ModelProto:
    """The model with inferred value_info (weights are not needed); the model as is when inference fails."""
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False)
    except Exception as exc:  # inference is a help, not a requirement: the parser still decides
        notes.append(f"shape inference failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
        return model


def add_spec_types(model: onnx.ModelProto, registry: Any) -> onnx.ModelProto:
    """The model with value_info for tensors ONNX inference cannot type: outputs of ops it has no
    schema for (com.microsoft) and everything downstream, from the covering specs' shape rules,
    as the rewrite types them. Without it, every node after a contrib op is judged on guesses."""
    from trtplug.graph_rewrites import node_pass, pipeline, tensor_types

    values = (*model.graph.input, *model.graph.value_info, *model.graph.output)
    declared = {v.name for v in values if v.type.tensor_type.HasField("shape")}  # shapeless: a gap
    declared |= {t.name for t in model.graph.initializer}
    untyped = [o for n in model.graph.node for o in n.output if o and o not in declared]
    if not untyped:  # ONNX inference typed every tensor: nothing for the spec rules to add
        return model
    coverage = node_pass.Coverage(registry, opset_versions(model))
    types, _ = tensor_types.infer_types(model, pipeline.spec_types(coverage))
    missing = [o for o in untyped if o in types]
    if not missing:
        return model
    typed = onnx.ModelProto()
    typed.CopyFrom(model)
    kept = [v for v in typed.graph.value_info if v.name not in missing or types[v.name].shape is None]
    del typed.graph.value_info[:]
    typed.graph.value_info.extend(kept)
    for name in missing:
        info = types[name]
        typed.graph.value_info.append(onnx.helper.make_tensor_value_info(name, info.elem_type, info.shape))
    return typed


def walk(model: onnx.ModelProto) -> Iterator[NodeSite]:
    """Every node, bodies included, in the same path convention as trtplug.onnx_common.iter_nodes."""
    versions = opset_versions(model)
    scope = Scope()
    scope.add_graph(model.graph)
    yield from _walk_graph(model.graph, scope, "", versions, top=True)


def _walk_graph(graph, scope: Scope, prefix: str, versions: dict[str, int], top: bool) -> Iterator[NodeSite]:
    for index, node in enumerate(graph.node):
        name = f"{prefix}{node_label(node, index)}"
        yield NodeSite(name, node, scope, index if top else None, node_opset(versions, node.domain))
        for attr_name, body in node_subgraphs(node):
            yield from _walk_graph(body, scope.child(body), f"{name}/{attr_name}/", versions, top=False)
