"""The whole rewrite of a model: pattern rules, then node -> plugin node, in every graph
(control-flow bodies first), then cleanup, opset imports, topological order and validation."""

from __future__ import annotations

from dataclasses import dataclass, field

import onnx

from trtplug.onnx_common import attr_subgraphs, opset_versions
from trtplug.registry import Registry

from . import plugin_node, plugin_override
from .changes import Change, Selection, op_label, selected_specs
from .constant_fold import fold_constants, merge_fold_reports
from .gqa_qk_norm import Unfused, unfuse_qk_norms
from .graph_view import GraphView, TensorType
from .node_pass import Coverage, NodePassResult, run_node_pass
from .pattern_pass import run_pattern_pass
from .rule import Rule
from .rule_discovery import discover_rules
from .tensor_types import infer_types
from .validate import is_topologically_sorted, remove_orphans, toposort, update_value_info

PLUGIN_OPSET = 1


@dataclass
class RewriteOptions:
    selection: Selection = field(default_factory=Selection)
    patterns: bool = True
    base_dir: str | None = None  # folder of the model's external data
    rules: tuple[Rule, ...] | None = None  # None: the built-in rules (discover_rules adds a project's)
    # Covered nodes the target TensorRT imports natively, by first output name -> (op_type, why):
    # left alone (trtplug/rewrite_target.py). None: replace every covered node.
    native: dict[str, tuple[str, str]] | None = None
    # Standard-op nodes a plugin serves unchanged stay ONNX nodes, bound by the parser's plugin
    # override (plugin_override.py) instead of becoming plugin nodes.
    override: bool = False
    overrides: dict[str, str] = field(default_factory=dict)  # set by rewrite_model: op type -> plugin

    def active_rules(self) -> tuple[Rule, ...]:
        return discover_rules() if self.rules is None else self.rules


@dataclass
class RewriteResult:
    changes: list[Change]
    sorted_nodes: bool  # whether nodes had to be re-sorted topologically
    input_infers_strictly: bool = True  # else the output is not held to strict shape inference either
    target: str = ""  # what decided which covered nodes stay native (set by the CLI)
    overrides: dict[str, str] = field(default_factory=dict)  # ONNX op type -> plugin, for the override

    def count(self, action: str) -> int:
        return sum(c.action == action for c in self.changes)


def _rewrite_graph(
    graph: onnx.GraphProto,
    prefix: str,
    context: tuple[Coverage, RewriteOptions, dict[str, TensorType]],
    results: list[NodePassResult],
) -> bool:
    """Rewrite `graph` and its bodies in place; True when nodes had to be re-sorted."""
    coverage, options, types = context
    resorted = False
    for index, node in enumerate(graph.node):
        for attr in node.attribute:
            for body in attr_subgraphs(attr):
                label = f"{prefix}{node.name or f'{node.op_type}_{index}'}/{attr.name}/"
                resorted |= _rewrite_graph(body, label, context, results)
    result = NodePassResult()
    restructured = False
    rules = options.active_rules() if options.patterns else ()
    anchors = {op for rule in rules for op in rule.anchors}
    # The anchor scan reads op types off the protobuf; only a graph holding an anchor is imported
    # into onnx-graphsurgeon (a 100k-node import costs several onnx loads), so a model with
    # nothing to match pays one pass over its nodes.
    if anchors and any(n.op_type in anchors for n in graph.node):
        view = GraphView(graph, types, options.base_dir)
        run_pattern_pass(view, coverage, options.selection, result, rules)
        restructured = view.apply()
    graph_view = GraphView(graph, types, options.base_dir)
    nodes = run_node_pass(graph_view, coverage, options.selection, prefix, options.native, options.overrides)
    result.changes += nodes.changes
    result.released |= nodes.released
    result.output_types.update(nodes.output_types)
    result.domains |= nodes.domains
    remove_orphans(graph, result.released)
    update_value_info(graph, result.output_types, restructured)
    # The input passed the checker (sorted), and replacements keep node order; sorting is a
    # safety net for restructured graphs only.
    if restructured and not is_topologically_sorted(graph):
        toposort(graph)
        resorted = True
    results.append(result)
    return resorted


def spec_types(coverage: Coverage):
    """Output types of nodes a spec covers, from its rules (ONNX inference knows no contrib op)."""

    def types_of(node: onnx.NodeProto, known: dict[str, TensorType]) -> dict[str, TensorType] | None:
        specs, _ = coverage.specs(node.domain, node.op_type)
        return plugin_node.spec_output_types(specs[0], node, known) if specs else None

    return types_of


def rewrite_model(model: onnx.ModelProto, registry: Registry, options: RewriteOptions | None = None) -> RewriteResult:
    """Rewrite `model` in place; the result lists what changed and what was left, and why."""
    options = options or RewriteOptions()
    coverage = Coverage(registry, opset_versions(model))
    results: list[NodePassResult] = []
    unfused = _unfuse_qk_norms(model, coverage, options.selection)  # before inference: new tensors get types
    types, strict = infer_types(model, spec_types(coverage))
    if options.override:
        context = lambda graph: GraphView(graph, types, options.base_dir)  # noqa: E731
        options.overrides = plugin_override.override_ops(model, coverage, options.selection, options.native, context)
    folded = fold_constants(model.graph, opset_versions(model).get("", 1), options.base_dir)
    resorted = _rewrite_graph(model.graph, "", (coverage, options, types), results)
    declared = {imp.domain for imp in model.opset_import}
    for domain in sorted(set().union(*(r.domains for r in results)) - declared):
        model.opset_import.append(onnx.helper.make_opsetid(domain, PLUGIN_OPSET))
    changes = merge_fold_reports(folded, [c for r in reversed(results) for c in r.changes])  # top-level first
    _note_unfused(changes, *unfused)
    return RewriteResult(changes, resorted, strict, overrides=dict(options.overrides))


def _unfuse_qk_norms(
    model: onnx.ModelProto, coverage: Coverage, selection: Selection
) -> tuple[list[Unfused], dict[str, str]]:
    """GroupQueryAttention's fused q/k norms written out (gqa_qk_norm.py) where a plugin that
    --only/--exclude allows covers GroupQueryAttention (the node pass's own selection)."""
    domain, op_type = "com.microsoft", "GroupQueryAttention"
    specs, _ = coverage.specs(domain, op_type)
    allowed, _ = selected_specs(selection, specs, {op_type, op_label(domain, op_type)})
    if not allowed:
        return [], {}
    return unfuse_qk_norms(model.graph, opset_versions(model).get("", 1))


def _note_unfused(changes: list[Change], unfused: list[Unfused], refused: dict[str, str]) -> None:
    """The report line of each GroupQueryAttention says what was unfused out of it, or why not."""
    notes = {u.node: u.note() for u in unfused}
    for change in changes:
        if change.node in notes:
            change.mapping.insert(0, notes[change.node])
        elif change.node in refused:
            change.reason = f"{change.reason}; its q/k norms were not unfused: {refused[change.node]}"
