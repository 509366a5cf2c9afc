"""Runs the pattern rules over one graph: each match becomes its canonical contrib op, which is
applied only when a registered plugin covers it (the node pass turns it into that plugin right
away); otherwise the subgraph is left untouched and the report says why.

Matching runs on an onnx-graphsurgeon import of the graph (producers, consumers, attributes);
the edit is made on the protobuf through GraphView, which keeps names, doc strings, metadata and
external-data references byte for byte (a gs export would rewrite them). gs imports the i-th
node it is given as its node i, which maps a match back to the protobuf nodes.
"""

from __future__ import annotations

from typing import Any

import onnx

from trtplug.errors import TrtplugError
from trtplug.onnx_common import STANDARD_DOMAINS

from . import plugin_node
from .changes import EXCLUDED, FUSED, LEFT, Change, Selection, plugin_label, selected_specs
from .graph_view import GraphView
from .node_pass import Coverage, NodePassResult, first_plan
from .pattern import Match, match_node, match_tensor
from .rule import ROOT, Form, Fusion, Rule

CANONICAL_OPSET = 1  # the com.microsoft contrib ops rules produce
NEAR_MISS_REACH = 3  # a near-miss pattern is rooted at the anchor or this many nodes after it


def import_graph(graph: onnx.GraphProto) -> Any:
    try:
        import onnx_graphsurgeon as gs  # only when a graph holds an anchor: it costs ~6x an onnx load
    except ImportError:
        raise TrtplugError(
            "the pattern rules need onnx-graphsurgeon (pip install 'trtplug[rewrite]' or onnx-graphsurgeon), "
            "or skip them with --no-patterns"
        ) from None
    return gs.importers.onnx_importer.OnnxImporter.import_graph(graph)


def anchor_region(view: GraphView, rules: tuple[Rule, ...]) -> list[onnx.NodeProto]:
    """The nodes within reach of an anchor, in graph order: every node of a match is within its
    pattern's size of the match's anchor, so only this region is imported into gs (a model with
    a few anchors pays for their neighbourhoods, not for its whole graph). Tensors crossing the
    region's edge become producer-less gs variables; constants are read through `view`."""
    reach = max(p.size() for r in rules for p in (*(f.pattern for f in r.forms), *(n for n, _ in r.near_misses)))
    reach += NEAR_MISS_REACH
    anchors = {op for r in rules for op in r.anchors}
    nodes = list(view.graph.node)  # held: ids of protobuf wrappers are only unique while they live
    frontier = [n for n in nodes if n.op_type in anchors]
    distance = {id(n): 0 for n in frontier}
    for step in range(1, reach + 1):
        reached = {id(m): m for n in frontier for m in view.neighbours(n) if id(m) not in distance}
        frontier = list(reached.values())
        distance.update((id(m), step) for m in frontier)
    return [n for n in nodes if id(n) in distance]


def generic_check(view: GraphView, fusion: Fusion) -> str | None:
    """No intermediate tensor may be read outside the fused nodes (it would vanish), no node may
    be fused twice."""
    if any(view.claimed(n) for n in fusion.nodes):
        return "overlaps a subgraph already fused"
    keep = set(fusion.outputs)
    for node in fusion.nodes:
        for out in node.output:
            if out and out not in keep and view.used_outside(out, fusion.nodes):
                return f"intermediate tensor {out!r} is also read outside the pattern"
    return None


class PatternPass:
    def __init__(self, view: GraphView, rules: tuple[Rule, ...], coverage: Coverage, selection: Selection) -> None:
        self.view, self.rules, self.coverage, self.selection = view, rules, coverage, selection
        region = anchor_region(view, rules)
        if len(region) == len(view.graph.node):
            self.graph = import_graph(view.graph)
        else:
            sub = onnx.GraphProto()
            sub.node.extend(region)
            self.graph = import_graph(sub)
        self.proto = {id(g): p for g, p in zip(self.graph.nodes, region, strict=True)}
        self.position = {id(g): view.position(p) for g, p in zip(self.graph.nodes, region, strict=True)}
        self.attempted: set[tuple[str, int]] = set()  # (rule, anchor node) already reported
        self.entries: list[tuple[int, Change]] = []

    def run(self, result: NodePassResult) -> None:
        # Roots from the last node back: a root's operands come before it, so the largest
        # subgraph a rule describes is tried before a part of it (beta Add before gamma Mul).
        by_root: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for root in rule.root_ops():
                by_root.setdefault(root, []).append(rule)
        for node in reversed(self.graph.nodes):
            for rule in by_root.get(node.op, []):
                if not self.view.claimed(self.proto[id(node)]):
                    self._at_root(rule, node, result)
        for node in self.graph.nodes:
            for rule in self.rules:
                if _is_anchor(rule, node) and (rule.name, id(node)) not in self.attempted:
                    self._near_miss(rule, node)
        result.changes += [c for _, c in sorted(self.entries, key=lambda e: e[0])]

    def _first_match(self, rule: Rule, form: Form, node: Any) -> Match | None:
        if node.op not in form.pattern.root_ops() or not node.outputs:
            return None
        for match in match_tensor(form.pattern, node.outputs[0], Match(self.view)):
            anchors = [n for n in match.nodes if _is_anchor(rule, n)]
            if anchors and (rule.name, id(anchors[0])) not in self.attempted:
                match.protos = [self.proto[id(n)] for n in sorted(match.nodes, key=lambda n: self.position[id(n)])]
                match.bound[ROOT] = node.outputs[0].name
                return match
        return None

    def _at_root(self, rule: Rule, node: Any, result: NodePassResult) -> None:
        attempts: list[Change] = []
        anchor = None
        for form in rule.forms:
            match = self._first_match(rule, form, node)
            if match is None:
                continue
            anchor = anchor or next(n for n in match.nodes if _is_anchor(rule, n))
            fusion = _fusion(form, match)
            reason = (rule.check(match) if rule.check else None) or generic_check(self.view, fusion)
            new, chosen, change = self._try(rule, fusion, reason)
            if new is not None:
                self.view.replace(fusion.nodes, new)
                result.output_types.update(chosen.output_types)
                result.released.update(i for n in fusion.nodes for i in n.input if i)
                result.released.update(chosen.folded)
                result.domains.add(new.domain)
                attempts = [change]
                break
            attempts.append(change)
        if anchor is not None:
            self.attempted.add((rule.name, id(anchor)))
            self.entries.append((self.position[id(anchor)], _merge(attempts)))

    def _try(self, rule: Rule, fusion: Fusion, reason: str | None) -> tuple[Any, Any, Change]:
        """The plugin node replacing `fusion`, its plan and report entry; None, None and the reason."""
        name = fusion.nodes[-1].name or fusion.nodes[-1].output[0]
        members = [n.name or n.op_type for n in fusion.nodes]
        change = Change(name, fusion.op, LEFT, rule=rule.name, nodes=members)
        opset = None if fusion.domain in STANDARD_DOMAINS else CANONICAL_OPSET  # None: the model's
        specs, why = self.coverage.specs(fusion.domain, fusion.op_type, opset)
        if reason or not specs:
            change.reason = reason or why
            return None, None, change
        specs, refusal = selected_specs(self.selection, specs, {rule.name, fusion.op_type, fusion.op})
        if refusal:
            change.action, change.reason = EXCLUDED, refusal
            return None, None, change
        canonical = fusion.node(name)
        chosen, why = first_plan(specs, canonical, self.view)
        if chosen is None:
            change.reason = why
            return None, None, change
        plugin_node.apply(canonical, chosen)
        change.action, change.plugin, change.mapping = FUSED, plugin_label(chosen.spec), chosen.mapping
        return canonical, chosen, change

    def _near_miss(self, rule: Rule, anchor: Any) -> None:
        """The reason of the most complete partial pattern found at (or just after) `anchor`."""
        reach, frontier = [anchor], [anchor]
        for _ in range(NEAR_MISS_REACH):
            frontier = [c for n in frontier for out in n.outputs for c in out.outputs]
            reach += frontier
        found = None
        for pattern, reason in rule.near_misses:
            if any(next(match_node(pattern, n, Match(self.view)), None) for n in reach if _is_op(pattern, n)):
                found = reason
        if found is not None:
            change = Change(anchor.name or anchor.op, anchor.op, LEFT, reason=found, rule=rule.name)
            self.entries.append((self.position[id(anchor)], change))


def _is_anchor(rule: Rule, node: Any) -> bool:
    return node.op in rule.anchors and (node.domain or "") in STANDARD_DOMAINS


def _is_op(pattern: Any, node: Any) -> bool:
    return node.op in pattern.root_ops() and (node.domain or "") in STANDARD_DOMAINS


def _fusion(form: Form, match: Match) -> Fusion:
    inputs = form.names(form.inputs, match)
    while inputs and not inputs[-1]:
        inputs.pop()
    outputs = form.names(form.outputs, match)
    attrs = form.attrs(match) if form.attrs else {}
    return Fusion(match.protos, form.domain, form.op_type, inputs, outputs, attrs)


def _merge(attempts: list[Change]) -> Change:
    """One report entry for a pattern none of whose forms could be applied."""
    first = attempts[0]
    if len(attempts) > 1:
        first.reason = "; ".join(f"as {c.op}: {c.reason}" for c in attempts)
    return first


def run_pattern_pass(
    view: GraphView, coverage: Coverage, selection: Selection, result: NodePassResult, rules: tuple[Rule, ...]
) -> None:
    """Queue a replacement on `view` for each fusion a plugin covers; record every attempt."""
    PatternPass(view, rules, coverage, selection).run(result)
