"""The node -> plugin node pass over one graph: every node a registered plugin covers becomes
a plugin node, or is left alone with the reason (attribute out of range, dtype, ...)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import onnx

from trtplug.onnx_common import STANDARD_DOMAINS
from trtplug.registry import Registry
from trtplug.spec import OpSpec

from . import plugin_node
from .attributes import NotRewritable
from .changes import EXCLUDED, LEFT, OVERRIDE, REPLACED, Change, Selection, op_label, plugin_label, selected_specs
from .graph_view import GraphView


class Coverage:
    """Which specs replace an ONNX op type, indexed once per rewrite."""

    def __init__(self, registry: Registry, versions: dict[str, int]) -> None:
        self.versions = versions
        self.by_op: dict[tuple[str, str], list[OpSpec]] = defaultdict(list)
        for spec in registry:
            for replaced in spec.replaces:
                domain = "" if replaced.domain in STANDARD_DOMAINS else replaced.domain
                if spec not in self.by_op[(domain, replaced.op_type)]:
                    self.by_op[(domain, replaced.op_type)].append(spec)
        self.plugin_domains = {plugin_node.plugin_domain(s) for s in registry}

    def specs(self, domain: str, op_type: str, opset: int | None = None) -> tuple[list[OpSpec], str]:
        """Specs covering the op at this opset, and why none does when the list is empty."""
        domain = "" if domain in STANDARD_DOMAINS else domain
        candidates = self.by_op.get((domain, op_type), [])
        version = opset if opset is not None else self.versions.get(domain, 1)
        covering = [s for s in candidates if any(r.covers(domain, op_type, version) for r in s.replaces)]
        if covering or not candidates:
            return covering, f"no registered plugin covers {op_label(domain, op_type)}"
        ranges = "; ".join(str(r) for s in candidates for r in s.replaces if r.op_type == op_type)
        return [], f"no plugin covers opset {version} (plugins cover {ranges})"


def first_plan(specs: list[OpSpec], node: onnx.NodeProto, view: GraphView) -> tuple[plugin_node.Plan | None, str]:
    """The plan of the first spec that can take `node`, else the reasons of each."""
    reasons = []
    for spec in specs:
        try:
            return plugin_node.plan(spec, node, view), ""
        except NotRewritable as exc:
            reasons.append(f"{spec.plugin.name}: {exc}" if len(specs) > 1 else str(exc))
    return None, "; ".join(reasons)


@dataclass
class NodePassResult:
    changes: list[Change] = field(default_factory=list)
    released: set[str] = field(default_factory=set)  # tensors some replaced node read: maybe orphaned now
    output_types: dict = field(default_factory=dict)  # plugin output name -> TensorType
    domains: set[str] = field(default_factory=set)  # plugin domains used


def run_node_pass(
    view: GraphView,
    coverage: Coverage,
    selection: Selection,
    prefix: str,
    native: dict | None = None,
    overrides: dict[str, str] | None = None,
) -> NodePassResult:
    result = NodePassResult()
    for index, node in enumerate(view.graph.node):
        name = f"{prefix}{node.name or f'{node.op_type}_{index}'}"
        op = op_label(node.domain, node.op_type)
        specs, why = coverage.specs(node.domain, node.op_type)
        if not specs:
            foreign = node.domain not in STANDARD_DOMAINS and node.domain not in coverage.plugin_domains
            if foreign or "opset" in why:  # standard ops without a plugin are TensorRT's business
                result.changes.append(Change(name, op, LEFT, reason=why))
            continue
        specs, refusal = selected_specs(selection, specs, {node.op_type, op})
        if refusal:
            result.changes.append(Change(name, op, EXCLUDED, reason=refusal))
            continue
        if node.domain in STANDARD_DOMAINS and node.op_type in (overrides or {}):
            plugin = overrides[node.op_type]
            reason = f"stays {node.op_type}: the parser binds it to {plugin} (plugin override)"
            result.changes.append(Change(name, op, OVERRIDE, plugin, reason=reason))
            continue
        kept = (native or {}).get(node.output[0]) if node.output else None
        if kept is not None and kept[0] == node.op_type:  # the target imports this very node
            result.changes.append(Change(name, op, LEFT, reason=kept[1]))
            continue
        chosen, why = first_plan(specs, node, view)
        if chosen is None:
            result.changes.append(Change(name, op, LEFT, reason=why))
            continue
        plugin_node.apply(node, chosen)
        view.graph.initializer.extend(chosen.placeholders + chosen.repacked)
        result.released.update(chosen.folded)
        result.output_types.update(chosen.output_types)
        result.domains.add(plugin_node.plugin_domain(chosen.spec))
        result.changes.append(Change(name, op, REPLACED, plugin_label(chosen.spec), chosen.mapping))
    return result
