"""Shape rules named in specs ("same_as:X", "last_dim_of:X", "append_last_dim_of:X,W").

A rule maps the shapes of an op's inputs to one tensor's shape. The same rule drives shape
inference of plugin nodes, the shape check of inputs, and the generation of parity inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

Shape = tuple[int, ...]
_RULES: dict[str, Callable[[Shape], Shape]] = {
    "same_as": lambda s: tuple(s),
    "last_dim_of": lambda s: (s[-1],) if s else (1,),
    "rows_of": lambda s: (*s[:-1], 1),  # per-row statistics (mean, inv_std_var): last axis reduced to 1
    "first_dim_of": lambda s: s[:1],
}
# Rules over two inputs ("rule:A,B").
_RULES2: dict[str, Callable[[Shape, Shape], Shape]] = {
    "append_last_dim_of": lambda a, b: (*a, b[-1]),  # e.g. ids (B, S) + table (V, H) -> (B, S, H)
}


def parse_rule(rule: str) -> tuple[str, str]:
    kind, _, ref = rule.partition(":")
    return kind, ref


def check_rule(rule: str, input_names: Sequence[str]) -> str | None:
    """The reason `rule` is invalid for an op with these inputs, or None."""
    kind, ref = parse_rule(rule)
    if kind not in _RULES and kind not in _RULES2:
        return f"unknown shape rule {kind!r} (known: {', '.join(sorted([*_RULES, *_RULES2]))})"
    refs = ref.split(",")
    if len(refs) != (2 if kind in _RULES2 else 1):
        return f"shape rule {rule!r} takes {2 if kind in _RULES2 else 1} input name(s)"
    if any(r not in input_names for r in refs):
        return f"shape rule {rule!r} names no input (inputs: {', '.join(input_names)})"
    return None


def apply_rule(rule: str, shapes: Mapping[str, Shape]) -> Shape:
    """The shape `rule` gives, from the shapes of the inputs it references."""
    kind, ref = parse_rule(rule)
    if kind in _RULES2:
        a, b = ref.split(",")
        return _RULES2[kind](shapes[a], shapes[b])
    return _RULES[kind](shapes[ref])
