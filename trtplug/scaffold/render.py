"""Jinja2 rendering of the templates under templates/ (real template files, one per generated file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LINE_WIDTH = 120


def wrap_call(head: str, items: list[str], tail: str, indent: int = 0) -> str:
    """`head(items...)tail` bin-packed at LINE_WIDTH, continuation lines indented 4 more, as the
    repository's clang-format style lays out signatures and calls."""
    line = " " * indent + head + "("
    lines = []
    for i, item in enumerate(items):
        piece = item + (", " if i + 1 < len(items) else tail)
        if len(line) + len(piece.rstrip()) > LINE_WIDTH and line.strip() != head + "(":
            lines.append(line.rstrip())
            line = " " * (indent + 4) + piece
        else:
            line += piece
    if not items:
        line += tail
    lines.append(line)
    return "\n".join(lines)


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # C++, Python and TOML, not HTML
    )
    env.globals["wrap_call"] = wrap_call
    env.filters["format_trt"] = lambda trt: f"t == DataType::{trt}"
    return env


def render(template: str, context: dict[str, Any]) -> str:
    text = environment().get_template(template).render(**context)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
