"""The `trtplug rewrite` report: a table, Markdown or JSON listing each replaced or fused node
with its plugin and field mapping, and each node left alone with the reason."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

HEADERS = ["NODE", "OP", "ACTION", "PLUGIN", "DETAIL"]
ACTIONS = ("replaced", "fused", "folded", "override", "left", "excluded")


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
    if getattr(result, "overrides", None):
        from trtplug.graph_rewrites.plugin_override import instructions

        text += f"; plugin override: {instructions(result.overrides)}"
    return text + (f"; wrote {output}" if output else "; dry run: nothing written")


def _markdown(rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _override_payload(result: Any) -> dict[str, Any] | None:
    from trtplug.graph_rewrites.plugin_override import ENV, PARSER_FLAG, env_value

    overrides = getattr(result, "overrides", None)
    if not overrides:
        return None
    return {"ops": dict(overrides), "env": {ENV: env_value(overrides)}, "parser_flag": PARSER_FLAG}


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
            "plugin_override": _override_payload(result),
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
