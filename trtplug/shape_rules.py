"""Shape rules named in specs ("same_as:X", "last_dim_of:X", "broadcast:A,B", "append_last_dim_of:X,W", ...).

A rule maps the shapes of an op's inputs to one tensor's shape. The same rule drives shape
inference of plugin nodes, the shape check of inputs, and the generation of parity inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

Shape = tuple[int, ...]
_RULES: dict[str, Callable[..., Shape]] = {
    "same_as": lambda s: tuple(s),
    "last_dim_of": lambda s: (s[-1],) if s else (1,),
    "broadcast": lambda *s: tuple(int(d) for d in np.broadcast_shapes(*s)),  # "broadcast:A,B" (numpy rules)
    "batch_of": lambda s: tuple(s[:-2]),  # a batch of matrices -> one value per matrix
    "rows_of": lambda s: (*s[:-1], 1),  # per-row statistics (mean, inv_std_var): last axis reduced to 1
    "first_dim_of": lambda s: tuple(s[:1]),
    "append_last_dim_of": lambda a, b: (*a, b[-1]),  # e.g. ids (B, S) + table (V, H) -> (B, S, H)
    "matmul_transposed": lambda a, b: (*a[:-1], b[0]),  # A (..., K) @ B(N, ...)^T -> (..., N): MatMulNBits
    "half_last_dim": lambda s: (*s[:-1], s[-1] // 2) if s else (),  # BiasSplitGelu: X's shape, last dim halved
}
# Input names a rule takes (None: any); default 1.
_ARITY = {"broadcast": None, "append_last_dim_of": 2, "matmul_transposed": 2}
# Output shapes that depend on input values ("dynamic:size"): known only from a run (the
# reference's outputs), or to a plugin through shape inputs / size tensors.
VALUE_DEPENDENT = "dynamic"


def parse_rule(rule: str) -> tuple[str, str]:
    kind, _, ref = rule.partition(":")
    return kind, ref


def check_rule(rule: str, input_names: Sequence[str]) -> str | None:
    """The reason `rule` is invalid for an op with these inputs, or None."""
    kind, ref = parse_rule(rule)
    if kind not in _RULES and kind != VALUE_DEPENDENT:
        return f"unknown shape rule {kind!r} (known: {', '.join(sorted([*_RULES, VALUE_DEPENDENT]))})"
    refs = ref.split(",")
    arity = _ARITY.get(kind, 1)
    if arity is not None and len(refs) != arity:
        return f"shape rule {rule!r} takes {arity} input name(s)"
    if any(r not in input_names for r in refs):
        return f"shape rule {rule!r} names no input (inputs: {', '.join(input_names)})"
    return None


def rule_inputs(rule: str) -> list[str]:
    """The inputs a rule reads."""
    return parse_rule(rule)[1].split(",")


def is_value_dependent(rule: str | None) -> bool:
    return rule is not None and parse_rule(rule)[0] == VALUE_DEPENDENT


def apply_rule(rule: str, shapes: Mapping[str, Shape]) -> Shape:
    """The shape `rule` gives, from the shapes of the inputs it references (comma-separated)."""
    kind, ref = parse_rule(rule)
    if kind == VALUE_DEPENDENT:
        raise ValueError(f"shape rule {rule!r} depends on input values, not shapes")
    return _RULES[kind](*(shapes[r] for r in ref.split(",")))
