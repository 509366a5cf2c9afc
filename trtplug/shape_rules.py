"""Shape rules named in specs ("same_as:X", "last_dim_of:X", "broadcast:A,B").

A rule maps the shapes of an op's inputs to one tensor's shape. The same rule drives shape
inference of plugin nodes, the shape check of inputs, and the generation of parity inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

Shape = tuple[int, ...]
_RULES: dict[str, Callable[[Shape], Shape]] = {
    "same_as": lambda s: tuple(s),
    "last_dim_of": lambda s: (s[-1],) if s else (1,),
}
# Rules over several inputs, named comma-separated: numpy-style (multidirectional) broadcasting.
_MULTI_RULES: dict[str, Callable[[Sequence[Shape]], Shape]] = {
    "broadcast": lambda shapes: tuple(np.broadcast_shapes(*shapes)),
}


def parse_rule(rule: str) -> tuple[str, str]:
    kind, _, ref = rule.partition(":")
    return kind, ref


def check_rule(rule: str, input_names: Sequence[str]) -> str | None:
    """The reason `rule` is invalid for an op with these inputs, or None."""
    kind, ref = parse_rule(rule)
    if kind in _MULTI_RULES:
        missing = [r for r in ref.split(",") if r not in input_names]
        if missing:
            return f"shape rule {rule!r} names no input {missing[0]!r} (inputs: {', '.join(input_names)})"
        return None
    if kind not in _RULES:
        return f"unknown shape rule {kind!r} (known: {', '.join(sorted([*_RULES, *_MULTI_RULES]))})"
    if ref not in input_names:
        return f"shape rule {rule!r} names no input (inputs: {', '.join(input_names)})"
    return None


def apply_rule(rule: str, shapes: Mapping[str, Shape]) -> Shape:
    """The shape `rule` gives, from the shapes of the inputs it references."""
    kind, ref = parse_rule(rule)
    if kind in _MULTI_RULES:
        return _MULTI_RULES[kind]([shapes[r] for r in ref.split(",")])
    return _RULES[kind](shapes[ref])
