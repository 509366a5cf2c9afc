"""Structural checks of a graph's wiring that onnx.load does not make: every node has an op type,
every tensor is written once, every name a node reads or the graph outputs is defined (in this
graph or an enclosing one), and opset versions are real. Linear in the model's size."""

from __future__ import annotations

import onnx

from trtplug.errors import TrtplugError
from trtplug.onnx_common import STANDARD_DOMAINS, node_label, node_subgraphs


def check_opset_versions(model: onnx.ModelProto, path: object) -> None:
    newest = onnx.defs.onnx_opset_version()
    for imp in model.opset_import:
        domain = imp.domain or "ai.onnx"
        if imp.version < 1:
            raise TrtplugError(f"{path}: opset_import {domain} version {imp.version} is not a valid version")
        if imp.domain in STANDARD_DOMAINS and imp.version > newest:
            raise TrtplugError(
                f"{path}: opset_import ai.onnx version {imp.version} is newer than any ONNX release known "
                f"here (onnx {onnx.__version__} knows up to {newest})"
            )


def check_wiring(graph: onnx.GraphProto, where: str, outer: frozenset[str] = frozenset()) -> None:
    """Raise TrtplugError naming the graph and node or tensor; bodies are checked recursively."""
    defined = _graph_sources(graph, where)
    for index, node in enumerate(graph.node):
        label = node_label(node, index)
        if not node.op_type:
            raise TrtplugError(f"{where}: node {label!r} has an empty op_type")
        for name in node.output:
            if not name:
                continue
            if name in defined:
                raise TrtplugError(f"{where}: tensor {name!r} is written twice (again by node {label!r})")
            defined.add(name)
    visible = outer | defined
    for index, node in enumerate(graph.node):
        for name in node.input:
            if name and name not in visible:
                raise TrtplugError(f"{where}: node {node_label(node, index)!r} reads {name!r}, which nothing defines")
        for attr_name, body in node_subgraphs(node):
            check_wiring(body, f"{where}/{node_label(node, index)}/{attr_name}", frozenset(visible))
    for output in graph.output:
        if output.name not in visible:
            raise TrtplugError(f"{where}: graph output {output.name!r} is not produced by any node or input")


def _graph_sources(graph: onnx.GraphProto, where: str) -> set[str]:
    defined: set[str] = set()
    for kind, name in [
        *(("input", i.name) for i in graph.input),
        *(("initializer", t.name) for t in graph.initializer),
    ]:
        if not name:
            raise TrtplugError(f"{where}: a graph {kind} has an empty name")
        if name in defined and kind == "input":
            raise TrtplugError(f"{where}: graph input {name!r} is declared twice")
        defined.add(name)
    return defined
