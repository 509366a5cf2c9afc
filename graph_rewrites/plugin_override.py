"""Plugin override (TensorRT >= 10.15, TensorRT-RTX): with OnnxParserFlag.ENABLE_PLUGIN_OVERRIDE
the parser prefers a registered plugin named like the ONNX op to its own importer. With
`rewrite --plugin-override`, a standard-op node the target rejects stays an ONNX node (the model
stays runnable by ONNX Runtime) when its plugin can serve it unchanged; libtrtplug_plugins exposes
the alias creators TRTPLUG_PLUGIN_OVERRIDE names (plugins/common/plugin_override.cpp).

A plugin serves a node unchanged when the parser's fields and inputs are what the plugin node
would carry: node attributes only (no derived fields, no constant inputs folded into fields),
inputs by position (no shape inputs, data copies or placeholders for absent inputs) and outputs
1:1 (no size tensors)."""

from __future__ import annotations

from typing import Any

import onnx

from trtplug.onnx_common import STANDARD_DOMAINS, iter_graphs
from trtplug.spec import OpSpec

ENV = "TRTPLUG_PLUGIN_OVERRIDE"
PARSER_FLAG = "OnnxParserFlag.ENABLE_PLUGIN_OVERRIDE"
MIN_TENSORRT = (10, 15)


def spec_problem(spec: OpSpec) -> str | None:
    """Why `spec`'s plugin cannot stand in for its ONNX op under the override; None when it can."""
    if not any(r.domain in STANDARD_DOMAINS for r in spec.replaces):
        return "not a standard ONNX op (TensorRT has no importer to override)"
    if spec.size_tensors:
        return "the plugin has size-tensor outputs the ONNX node lacks"
    if any(a.derived for a in spec.attributes):
        return "a plugin field is set by the rewrite, not by the node"
    if any(t.fold_into or t.shape_input for t in spec.inputs) or spec.data_copies:
        return "an input becomes a field or a shape input in the plugin node"
    return None


def node_problem(spec: OpSpec, node: onnx.NodeProto, plugin_inputs: list[str]) -> str | None:
    """Why this node needs the rewritten form even though its spec could serve an override."""
    problem = spec_problem(spec)
    if problem:
        return problem
    if list(plugin_inputs) != [name for name in node.input]:
        return "an absent optional input sits before a present one"
    return None


def override_ops(model: onnx.ModelProto, coverage: Any, selection: Any, native: dict | None, context: Any) -> dict:
    """{ONNX op type: plugin} for the op types the override can take over: the parser's flag
    binds EVERY node of a type to the alias, so each node of it must be servable unchanged, and
    at least one must be a node the target rejects (else the override buys nothing).
    `context(graph)` gives the GraphView first_plan needs."""
    from .changes import op_label, selected_specs
    from .node_pass import first_plan

    verdict: dict[str, str | None] = {}
    needed: set[str] = set()
    for _, graph in iter_graphs(model.graph):
        view = context(graph)
        for node in graph.node:
            specs, _ = coverage.specs(node.domain, node.op_type) if node.domain in STANDARD_DOMAINS else ([], "")
            if not specs:
                continue
            specs, refusal = selected_specs(selection, specs, {node.op_type, op_label(node.domain, node.op_type)})
            chosen = None if refusal else first_plan(specs, node, view)[0]
            servable = chosen is not None and node_problem(chosen.spec, node, chosen.inputs) is None
            plugin = chosen.spec.plugin.name if servable else None
            if verdict.setdefault(node.op_type, plugin) != plugin:
                verdict[node.op_type] = None
            if node.output and node.output[0] not in (native or {}):
                needed.add(node.op_type)
    return {op: plugin for op, plugin in verdict.items() if plugin and op in needed}


def env_value(pairs: dict[str, str]) -> str:
    """TRTPLUG_PLUGIN_OVERRIDE's value for {ONNX op type: plugin name}."""
    return ",".join(f"{op}={plugin}" for op, plugin in sorted(pairs.items()))


def instructions(pairs: dict[str, str]) -> str:
    return f"set {ENV}={env_value(pairs)} before loading libtrtplug_plugins and the parser flag {PARSER_FLAG}"
