"""Plain-text tables and JSON output shared by the commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

JSON_SCHEMA_VERSION = 1


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_json(kind: str, payload: Any, out: TextIO | None = None) -> None:
    """JSON documents carry their kind and a schema version so consumers can check both."""
    out = out or sys.stdout
    json.dump({"schema": f"trtplug.{kind}", "schema_version": JSON_SCHEMA_VERSION, **payload}, out, indent=2)
    out.write("\n")
