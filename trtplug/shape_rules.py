"""Shape rules named in specs ("same_as:X", "last_dim_of:X", "broadcast:A,B", "append_last_dim_of:X,W", ...).

A rule maps the shapes of an op's inputs (and, for the axis rules, the node's `axis` attribute)
to one tensor's shape. The same rule drives shape
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
    "scalar": lambda s: (),  # a 0-D tensor whatever the referenced input's shape (CumSum's axis)
    "matmul_transposed": lambda a, b: (*a[:-1], b[0]),  # A (..., K) @ B(N, ...)^T -> (..., N): MatMulNBits
    "half_last_dim": lambda s: (*s[:-1], s[-1] // 2) if s else (),  # BiasSplitGelu: X's shape, last dim halved
    # X (N, C, H, W), W (OC, ...), offset (N, 2K, oH, oW) -> (N, OC, oH, oW): deformable convolution
    "deform_conv_output": lambda x, w, offset: (x[0], w[0], *offset[2:]),
}

# Rules that read the node's `axis` attribute (normalizations over the axes from `axis` on).
_AXIS_RULES: dict[str, Callable[[Shape, int], Shape]] = {
    "from_axis_of": lambda s, a: tuple(s[a:]),  # the normalized axes: RMSNorm's scale
    "reduced_from_axis": lambda s, a: (*s[:a], *(1 for _ in s[a:])),  # per-row statistics, axes from `axis` set to 1
}
# Input names a rule takes (None: any); default 1.
_ARITY = {"broadcast": None, "append_last_dim_of": 2, "matmul_transposed": 2, "deform_conv_output": 3}
# Output shapes that depend on input values ("dynamic:size"): known only from a run (the
# reference's outputs), or to a plugin through shape inputs / size tensors.
VALUE_DEPENDENT = "dynamic"


def parse_rule(rule: str) -> tuple[str, str]:
    kind, _, ref = rule.partition(":")
    return kind, ref


def check_rule(rule: str, input_names: Sequence[str]) -> str | None:
    """The reason `rule` is invalid for an op with these inputs, or None."""
    kind, ref = parse_rule(rule)
    known = [*_RULES, *_AXIS_RULES, VALUE_DEPENDENT]
    if kind not in known:
        return f"unknown shape rule {kind!r} (known: {', '.join(sorted(known))})"
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


def apply_rule(rule: str, shapes: Mapping[str, Shape], attrs: Mapping[str, object] | None = None) -> Shape:
    """The shape `rule` gives, from the shapes of the inputs it references (comma-separated);
    the axis rules also need the node's attributes (ValueError without them)."""
    kind, ref = parse_rule(rule)
    if kind == VALUE_DEPENDENT:
        raise ValueError(f"shape rule {rule!r} depends on input values, not shapes")
    if kind in _AXIS_RULES:
        return apply_axis_rule(kind, tuple(shapes[ref]), attrs)
    return _RULES[kind](*(shapes[r] for r in ref.split(",")))


def is_axis_rule(kind: str) -> bool:
    return kind in _AXIS_RULES


def apply_axis_rule(kind: str, shape: tuple, attrs: Mapping[str, object] | None) -> tuple:
    """An axis rule on `shape` (ints, or symbolic dims: only sliced and padded with 1s)."""
    if attrs is None or "axis" not in attrs:
        raise ValueError(f"shape rule {kind!r} needs the node's axis attribute")
    axis = int(attrs["axis"])  # type: ignore[call-overload]
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for rank {len(shape)}")
    return _AXIS_RULES[kind](shape, axis % len(shape))
