"""The `trtplug rewrite` report: a table, Markdown or JSON listing each replaced or fused node
with its plugin and field mapping, and each node left alone with the reason."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

HEADERS = ["NODE", "OP", "ACTION", "PLUGIN", "DETAIL"]
ACTIONS = ("replaced", "fused", "left", "excluded")


def _detail(change: Any) -> str:
    parts = []
    if change.rule:
        parts.append(f"rule {change.rule}" + (f" ({len(change.nodes)} nodes)" if change.nodes else ""))
    parts.extend(change.mapping)
    if change.reason:
        parts.append(change.reason)
    return "; ".join(parts)


def _rows(result: Any) -> list[list[str]]:
    return [[c.node, c.op, c.action, c.plugin or "-", _detail(c)] for c in result.changes]


def summary(result: Any, output: Path | None) -> str:
    counts = Counter(c.action for c in result.changes)
    fused_nodes = sum(len(c.nodes) for c in result.changes if c.action == "fused")
    text = ", ".join(f"{counts[a]} {a}" for a in ACTIONS)
    text += f" ({fused_nodes} nodes fused)" if fused_nodes else ""
    text += f"; target: {result.target}" if getattr(result, "target", "") else ""
    return text + (f"; wrote {output}" if output else "; dry run: nothing written")


def _markdown(rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def print_report(args: argparse.Namespace, result: Any, output: Path | None) -> None:
    from trtplug.report import format_table, print_json

    if args.json:
        payload = {
            "model": str(args.model),
            "output": str(output) if output else None,
            "dry_run": bool(args.dry_run),
            "counts": {a: sum(c.action == a for c in result.changes) for a in ACTIONS},
            "resorted": result.sorted_nodes,
            "target": result.target,
            "changes": [c.as_dict() for c in result.changes],
        }
        print_json("rewrite", payload)
        return
    rows = _rows(result)
    if args.markdown:
        print(_markdown(rows) if rows else "_no node covered by a plugin_")
    elif rows:
        print(format_table(HEADERS, rows))
    print(summary(result, output))
