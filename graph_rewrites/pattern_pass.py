"""Runs the pattern rules over one graph: each match becomes its canonical contrib op, which is
applied only when a registered plugin covers it (the node pass turns it into that plugin right
away); otherwise the subgraph is left untouched and the report says why."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

import onnx

from . import plugin_node
from .changes import EXCLUDED, FUSED, LEFT, Change, Selection, plugin_label, selected_specs
from .graph_view import GraphView
from .node_pass import Coverage, NodePassResult, first_plan
from .rule import Fusion, Rule, is_op

CANONICAL_OPSET = 1  # the com.microsoft contrib ops rules produce


@cache
def discover_rules() -> tuple[Rule, ...]:
    """Every `RULE` defined by a module of this package, by priority then name."""
    rules = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__package__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Rule):
            rules.append(rule)
    return tuple(sorted(rules, key=lambda r: (r.priority, r.name)))


@cache
def anchor_ops() -> frozenset[str]:
    return frozenset(op for r in discover_rules() for op in r.anchors)


def rule_names() -> set[str]:
    """Names --only/--exclude accept for rules: each rule and the ops it produces."""
    return {name for r in discover_rules() for name in (r.name, *r.produces)}


def _try_fusion(
    view: GraphView, rule: Rule, fusion: Fusion, coverage: Coverage, selection: Selection
) -> tuple[onnx.NodeProto | None, plugin_node.Plan | None, Change]:
    """The plugin node replacing `fusion`, its plan and report entry; None, None and the reason."""
    name = fusion.nodes[-1].name or fusion.nodes[-1].output[0]
    members = [n.name or n.op_type for n in fusion.nodes]
    change = Change(name, fusion.op, LEFT, rule=rule.name, nodes=members)
    reason = rule.check(view, fusion)
    specs, why = coverage.specs(fusion.domain, fusion.op_type, CANONICAL_OPSET)
    if reason or not specs:
        change.reason = reason or why
        return None, None, change
    specs, refusal = selected_specs(selection, specs, {rule.name, fusion.op_type, fusion.op})
    if refusal:
        change.action, change.reason = EXCLUDED, refusal
        return None, None, change
    canonical = fusion.node(name)
    chosen, why = first_plan(specs, canonical, view)
    if chosen is None:
        change.reason = why
        return None, None, change
    plugin_node.apply(canonical, chosen)
    change.action, change.plugin, change.mapping = FUSED, plugin_label(chosen.spec), chosen.mapping
    return canonical, chosen, change


def run_pattern_pass(view: GraphView, coverage: Coverage, selection: Selection, result: NodePassResult) -> None:
    """Queue a replacement on `view` for each fusion a plugin covers; record every attempt."""
    by_anchor: dict[str, list[Rule]] = {}
    for rule in discover_rules():
        for anchor in rule.anchors:
            by_anchor.setdefault(anchor, []).append(rule)
    for node in list(view.graph.node):
        for rule in by_anchor.get(node.op_type, []):
            if not is_op(node, node.op_type) or view.claimed(node):
                continue
            found = rule.match(view, node)
            if found is None:
                continue
            if isinstance(found, str):
                label = node.name or node.op_type
                result.changes.append(Change(label, node.op_type, LEFT, reason=found, rule=rule.name))
                continue
            reasons = []
            for fusion in found:
                new, chosen, change = _try_fusion(view, rule, fusion, coverage, selection)
                if new is not None and chosen is not None:
                    view.replace(fusion.nodes, new)
                    result.changes.append(change)
                    result.output_types.update(chosen.output_types)
                    result.released.update(i for n in fusion.nodes for i in n.input if i)
                    result.released.update(chosen.folded)
                    result.domains.add(new.domain)
                    break
                reasons.append(change)
            else:
                result.changes.append(_merge(reasons))


def _merge(attempts: list[Change]) -> Change:
    """One report entry for a pattern none of whose forms could be applied."""
    first = attempts[0]
    if len(attempts) > 1:
        first.reason = "; ".join(f"as {c.op}: {c.reason}" for c in attempts)
    return first
