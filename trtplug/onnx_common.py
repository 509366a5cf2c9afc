"""ONNX facts every layer needs, stated once: the standard domains, opset versions, dtype names and
the walk over If/Loop/Scan bodies. Imports only onnx and numpy, so every module can use it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import onnx

# The default ONNX domain has two spellings; nodes and opset imports use either.
STANDARD_DOMAINS = ("", "ai.onnx")


def is_standard_domain(domain: str) -> bool:
    return domain in STANDARD_DOMAINS


def domain_label(domain: str) -> str:
    """The domain as users read it: the empty default domain is shown as ai.onnx."""
    return domain or "ai.onnx"


def qualified_op(domain: str, op_type: str) -> str:
    return f"{domain_label(domain)}::{op_type}"


def opset_versions(proto: onnx.ModelProto | onnx.FunctionProto) -> dict[str, int]:
    """domain -> version from a model's (or function's) opset_import; "" answers for ai.onnx too."""
    versions = {imp.domain or "": imp.version for imp in proto.opset_import}
    versions.setdefault("", versions.get("ai.onnx", 0))
    return versions


def node_opset(versions: dict[str, int], domain: str) -> int:
    """The opset a node of `domain` is read at (0: its domain is not imported)."""
    return versions.get("" if is_standard_domain(domain) else domain, 0)


@cache
def dtype_name(elem_type: int) -> str:
    """ONNX element type -> the dtype names specs and capability data use: numpy's names for the
    types numpy has (float32, float16, int64, bool), ONNX's lower-cased names for the rest
    (bfloat16, float8e4m3fn, float4e2m1)."""
    try:
        name = onnx.TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"unknown data type {elem_type}"
    return {"float": "float32", "double": "float64"}.get(name, name)


def attr_subgraphs(attr: onnx.AttributeProto) -> list[onnx.GraphProto]:
    """The bodies an attribute holds: one for GRAPH, any number for GRAPHS, none otherwise."""
    if attr.type == onnx.AttributeProto.GRAPH:
        return [attr.g]
    return list(attr.graphs) if attr.type == onnx.AttributeProto.GRAPHS else []


def node_subgraphs(node: onnx.NodeProto) -> Iterator[tuple[str, onnx.GraphProto]]:
    """(attribute name, body) for each If/Loop/Scan body of a node."""
    for attr in node.attribute:  # empty for most nodes of large models: the loop costs nothing then
        for body in attr_subgraphs(attr):
            yield attr.name, body


def node_label(node: onnx.NodeProto, index: int) -> str:
    """A node's name, or OpType_index for unnamed nodes (the path convention of every report)."""
    return node.name or f"{node.op_type}_{index}"


def iter_nodes(graph: onnx.GraphProto, prefix: str = "") -> Iterator[tuple[str, onnx.NodeProto]]:
    """(path, node) for every node, including those in If/Loop/Scan bodies."""
    for index, node in enumerate(graph.node):
        name = f"{prefix}{node_label(node, index)}"
        yield name, node
        for attr_name, body in node_subgraphs(node):
            yield from iter_nodes(body, f"{name}/{attr_name}/")


def iter_graphs(graph: onnx.GraphProto, prefix: str = "graph") -> Iterator[tuple[str, onnx.GraphProto]]:
    """(path, graph) for the graph and every If/Loop/Scan body inside it."""
    yield prefix, graph
    for index, node in enumerate(graph.node):
        for attr_name, body in node_subgraphs(node):
            yield from iter_graphs(body, f"{prefix}/{node_label(node, index)}/{attr_name}")
