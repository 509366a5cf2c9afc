"""Parser mode: each distinct node signature parsed once as a one-node model in a child process,
then the whole model parsed once to confirm (or correct) the per-node verdicts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from trtplug.check.extract import CHECKED_NODE, ModelContext, build_model, cut_node
from trtplug.check.findings import CheckReport, Finding
from trtplug.check.pool import JobResult, PoolInfo, run_jobs
from trtplug.check.prefix import plugin_prefix
from trtplug.check.walk import NodeSite, infer_types, walk
from trtplug.onnx_common import domain_label

CHECKER_FILE = "onnxOpCheckers"  # errors from the parser's static checkers, raised before any import


@dataclass
class Verdict:
    reasons: list[str] = field(default_factory=list)  # about the node itself
    body: list[tuple[str, str]] = field(default_factory=list)  # (body node name, reason)
    source: str = "node parse"


def error_reason(error: dict[str, Any]) -> str:
    """The parser's own words, with the checker's location when it only says 'false'."""
    desc = error.get("desc", "").removeprefix("Assertion failed: ").strip()
    match = re.fullmatch(r'[^"]*&&\s*"(.*)"', desc)  # `cond && "message"` assertions: keep the message
    desc = match.group(1) if match else desc
    if desc in ("", "false") and error.get("where"):
        desc = f"rejected by the parser's {error['where'].split()[-1]} ({error.get('code', '')})"
    return desc or error.get("code", "rejected")


def _verdict(result: JobResult) -> Verdict:
    if result.aborted:
        return Verdict([result.aborted], source="parser abort")
    verdict = Verdict()
    for error in result.errors:
        name = error.get("node_name", "")
        if name and name != CHECKED_NODE:
            verdict.body.append((name, error_reason(error)))
        else:
            verdict.reasons.append(error_reason(error))
    return verdict


def run_parser_check(
    model: onnx.ModelProto,
    path: Path,
    report: CheckReport,
    backend: str,
    progress: Callable[[int, int], Callable[[int], None]],
    whole_model: bool = True,
    timeout_s: float = 120.0,
    plugin_domains: set[str] | None = None,
) -> list[tuple[NodeSite, Verdict]]:
    """Every node with a verdict (empty reasons: the parser imports it). `plugin_domains`: where
    trtplug plugin nodes live; a rewritten model's prefix before them is parsed too (check/prefix.py)."""
    inferred = infer_types(model, report.notes)
    ctx = ModelContext.of(inferred, path.resolve().parent)
    sites, site_jobs, jobs, by_signature = [], [], [], {}
    for site in walk(inferred):
        cut = cut_node(site.node, site.scope, ctx)
        if cut.signature not in by_signature:
            by_signature[cut.signature] = len(jobs)
            jobs.append((build_model(cut, ctx), None))
        sites.append(site)
        site_jobs.append(by_signature[cut.signature])
        report.notes.extend(f"node {site.path!r}: {note}" for note in cut.notes)
    prefix = plugin_prefix(model, plugin_domains or set()) if whole_model else None
    if prefix is not None:
        jobs.append((prefix[0], str(path.resolve())))
    if whole_model:
        jobs.append((model.SerializeToString(), str(path.resolve())))  # the parser resolves external data from it
    info = PoolInfo()
    results = run_jobs(jobs, backend, progress(len(jobs), len(sites)), timeout_s, info)
    report.engine = f"{info.backend or backend} {info.version}".strip()
    report.stats.update(nodes=len(sites), distinct_signatures=len(by_signature), parses=len(jobs))
    report.stats["worker_processes"] = info.children
    verdicts = [_verdict(results[j]) for j in site_jobs]
    if whole_model:
        stopped = _confirm(sites, verdicts, results[-1], report)
        if prefix is not None and stopped is None:  # the plugin nodes stopped the parse before any import
            _confirm_prefix(sites, verdicts, results[-2], prefix[1], report)
    _settle_bodies(sites, verdicts)
    return list(zip(sites, verdicts, strict=True))


def _confirm(sites: list[NodeSite], verdicts: list[Verdict], whole: JobResult, report: CheckReport) -> int | None:
    """Reconcile the per-node verdicts with the whole-model parse, which sees every node in context.
    The top-level index where the import stopped (None: it stopped before importing any node)."""
    if whole.aborted:
        report.notes.append(f"whole-model parse: {whole.aborted}; per-node verdicts stand")
        report.stats["whole_model"] = "aborted"
        return None
    if not whole.errors:
        isolated = sum(bool(v.reasons) for v in verdicts)
        if isolated:
            report.notes.append(
                f"{isolated} node(s) failed only in isolation (e.g. a computed shape input became a network "
                "input); the whole model imports, so they are not reported"
            )
        for verdict in verdicts:
            verdict.reasons, verdict.body = [], []
        report.stats["whole_model"] = "imports"
        return len(sites)
    report.stats["whole_model"] = "rejected"
    unplaced, stop = _apply_whole_model_errors(sites, verdicts, whole.errors)
    report.stats["whole_model_unplaced"] = [error_reason(e) for e in unplaced]
    return stop


def _confirm_prefix(
    sites: list[NodeSite], verdicts: list[Verdict], prefix: JobResult, end: int, report: CheckReport
) -> None:
    """The nodes before the first plugin node, as their own parse imported them in context."""
    if prefix.aborted:
        report.notes.append(f"parse of the nodes before the first plugin node: {prefix.aborted}")
        return
    before = [i for i, s in enumerate(sites) if s.top_index is not None and s.top_index < end]
    if not prefix.errors:
        for i in before:
            verdicts[i].reasons, verdicts[i].body = [], []
    else:
        part = [sites[i] for i in before]
        _apply_whole_model_errors(part, [verdicts[i] for i in before], prefix.errors)
    report.stats["plugin_prefix"] = "imports" if not prefix.errors else "rejected"


def _apply_whole_model_errors(
    sites: list[NodeSite], verdicts: list[Verdict], errors: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int | None]:
    """Attach whole-model errors to their nodes; the errors no node could be found for, and the
    top-level index of the first node whose import failed (None: only the static checks failed)."""
    by_name = {s.node.name: i for i, s in enumerate(sites) if s.node.name}
    by_top = {s.top_index: i for i, s in enumerate(sites) if s.top_index is not None}
    import_stop, unplaced = None, []  # the parser imports in order: nodes before the first failure imported fine
    for error in errors:
        index = by_name.get(error.get("node_name", ""), by_top.get(error.get("node", -1)))
        if index is None:
            unplaced.append(error)
            continue
        reason = error_reason(error)
        if reason not in verdicts[index].reasons:
            verdicts[index].reasons.insert(0, reason)
            verdicts[index].source = "whole-model parse"
        if CHECKER_FILE not in error.get("where", "") and sites[index].top_index is not None:
            import_stop = (
                min(import_stop, sites[index].top_index) if import_stop is not None else sites[index].top_index
            )
    if import_stop is None:
        return unplaced, None
    flagged = {by_name.get(e.get("node_name", ""), by_top.get(e.get("node", -1))) for e in errors}
    for i, site in enumerate(sites):
        if site.top_index is not None and site.top_index < import_stop and i not in flagged:
            verdicts[i].reasons, verdicts[i].body = [], []
    return unplaced, import_stop


def _settle_bodies(sites: list[NodeSite], verdicts: list[Verdict]) -> None:
    """A body error names an inner node: kept on the If/Loop/Scan only if that node is not reported itself."""
    rejected_names = {s.node.name for s, v in zip(sites, verdicts, strict=True) if v.reasons and s.node.name}
    for verdict in verdicts:
        for name, reason in verdict.body:
            if name not in rejected_names:
                verdict.reasons.append(f"in body node {name!r}: {reason}")
        verdict.body = []


def findings_from(pairs: list[tuple[NodeSite, Verdict]], covering: Callable[[NodeSite], str | None]) -> list[Finding]:
    return [
        Finding(
            node=site.path,
            op_type=site.node.op_type,
            domain=domain_label(site.node.domain),
            reason="; ".join(dict.fromkeys(verdict.reasons)),
            source=verdict.source,
            plugin=covering(site),
        )
        for site, verdict in pairs
        if verdict.reasons
    ]
