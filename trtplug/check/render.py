"""Rendering a CheckReport: a plain table, Markdown, or versioned JSON; and a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from trtplug.check.findings import CheckReport
from trtplug.report import format_table, print_json

HEADERS = ["NODE", "OP", "DOMAIN", "REASON", "COVERING PLUGIN"]
REASON_WIDTH = 100


def _rows(report: CheckReport, width: int | None) -> list[list[str]]:
    rows = []
    for f in report.findings:
        reason = f.reason if width is None or len(f.reason) <= width else f.reason[: width - 3] + "..."
        rows.append([f.node, f.op_type, f.domain, reason, f.plugin or "none"])
    return rows


def summary(report: CheckReport) -> str:
    if not report.findings:
        return f"{report.nodes} nodes checked ({report.engine}): TensorRT imports every node"
    library = [f for f in report.findings if f.kind == "plugin-library"]
    plugin_nodes = [f for f in report.findings if f.kind == "trtplug-plugin"]
    rejected = len(report.findings) - len(library) - len(plugin_nodes)
    covered = rejected - len(report.uncovered)
    text = (
        f"{report.nodes} nodes checked ({report.engine}): {rejected} rejected, "
        f"{covered} covered by a trtplug plugin, {len(report.uncovered)} not covered"
    )
    if plugin_nodes:
        text += f"; {len(plugin_nodes)} trtplug plugin nodes (import once trtplug's plugins are registered)"
    if library:
        text += f"; {len(library)} import only with TensorRT's plugin library (libnvinfer_plugin) loaded"
    return text


def print_table(report: CheckReport, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if report.findings:
        print(format_table(HEADERS, _rows(report, REASON_WIDTH)), file=out)
    for note in report.notes[:20]:
        print(f"note: {note}", file=out)
    if len(report.notes) > 20:
        print(f"note: ... {len(report.notes) - 20} more notes (see --json)", file=out)
    print(summary(report), file=out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def print_markdown(report: CheckReport, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    lines = [f"# trtplug check: `{report.model}`", "", summary(report), ""]
    if report.findings:
        lines += ["| " + " | ".join(h.title() for h in HEADERS) + " |", "|" + " --- |" * len(HEADERS)]
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _rows(report, None)]
        lines.append("")
    lines += [f"- note: {_md(n)}" for n in report.notes]
    print("\n".join(lines).rstrip(), file=out)


def print_report_json(report: CheckReport, out: TextIO | None = None) -> None:
    print_json("check", report.as_dict(), out)


def progress_bar(enabled: bool, label: str = "checking") -> Callable[[int, int], Callable[[int], None]]:
    """A factory: given (total steps, node count), a callback advancing a stderr bar; no-op when disabled."""
    from trtplug.progress import ProgressBar

    def start(total: int, nodes: int) -> Callable[[int], None]:
        return ProgressBar(total, f"{label} {nodes} nodes:", enabled=enabled and total > 1).advance

    return start
