"""Shape rules named in specs ("same_as:X", "last_dim_of:X", "reduced_last_of:X").

A rule maps the shapes of an op's inputs to one tensor's shape. The same rule drives shape
inference of plugin nodes, the shape check of inputs, and the generation of parity inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

Shape = tuple[int, ...]
_RULES: dict[str, Callable[[Shape], Shape]] = {
    "same_as": lambda s: tuple(s),
    "last_dim_of": lambda s: (s[-1],) if s else (1,),
    "reduced_last_of": lambda s: (*s[:-1], 1) if s else (1,),  # a reduction over the last axis, kept
}


def parse_rule(rule: str) -> tuple[str, str]:
    kind, _, ref = rule.partition(":")
    return kind, ref


def check_rule(rule: str, input_names: Sequence[str]) -> str | None:
    """The reason `rule` is invalid for an op with these inputs, or None."""
    kind, ref = parse_rule(rule)
    if kind not in _RULES:
        return f"unknown shape rule {kind!r} (known: {', '.join(sorted(_RULES))})"
    if ref not in input_names:
        return f"shape rule {rule!r} names no input (inputs: {', '.join(input_names)})"
    return None


def apply_rule(rule: str, shapes: Mapping[str, Shape]) -> Shape:
    """The shape `rule` gives, from the shapes of the inputs it references."""
    kind, ref = parse_rule(rule)
    return _RULES[kind](shapes[ref])
