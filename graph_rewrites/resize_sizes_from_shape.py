"""Antialiased Resize whose sizes repeat the leading dims of its own input, as torch.onnx exports
F.interpolate(x, size=..., antialias=True) and torchvision's Resize with a dynamic batch:

    Resize(x, roi, scales, Concat(Shape(x, start=0, end=k), tail))   -> Resize(x, roi, scales, tail)
    Resize(x, roi, scales, Concat(Slice(Shape(x), [0], [k]), tail))  -> the same
        with axes = [k, ..., k + len(tail) - 1]

tail a constant 1-D tensor, which the node pass then folds into the plugin's `sizes` field.
Conditions: antialias = 1 (the only Resize a plugin takes over: TensorRT imports the others as
they are) and no `axes` attribute on the node; the prefix starts at 0 and is nonempty; the
Slice, if any, is over axis 0 with step 1; the Shape and Concat outputs are read only here.
"""

from __future__ import annotations

from typing import Any

from .pattern import Match, Pattern, const, either, op, opt, var
from .rule import ROOT, Form, Rule, constant_1d


def _unit_slice(node: Any, m: Match) -> bool:
    """Slice(data, starts, ends[, axes[, steps]]) over axis 0 with step 1 (or the defaults)."""
    extra = [i.name for i in node.inputs[3:5]]
    defaults = (0.0, 1.0)
    return all(not name or m.view.scalar(name) == default for name, default in zip(extra, defaults, strict=False))


_SHAPE = op("Shape", var("x"), name="shape")
_PREFIX = either(_SHAPE, op("Slice", _SHAPE, const(0.0), const(name="end"), name="slice", where=_unit_slice))


def _resize(prefix: Pattern) -> Pattern:
    sizes = op("Concat", prefix, var("tail", where=constant_1d), name="concat")
    return op("Resize", var("x"), opt(var("roi")), opt(var("scales")), sizes, name="resize", where=_antialiased)


def _antialiased(node: Any, m: Match) -> bool:
    """Only these: a plain Resize stays TensorRT's, as it is (no report entry from this rule)."""
    return node.attrs.get("antialias", 0) == 1


def _prefix_length(m: Match) -> int | None:
    """k: the leading dims the Concat takes from x's shape (None when not a [0, k) prefix)."""
    if "end" in m.bound:
        end = m.scalar("end")
        return int(end) if end is not None and float(end).is_integer() and end > 0 else None
    attrs = m.node("shape").attrs
    start, end = attrs.get("start", 0), attrs.get("end")
    return end if start == 0 and isinstance(end, int) and end > 0 else None


def _check(m: Match) -> str | None:
    if "axes" in m.node("resize").attrs:
        return "the Resize already has axes"
    if m.node("concat").attrs.get("axis") not in (0, -1):
        return "the sizes Concat is not over axis 0"
    if _prefix_length(m) is None:
        return "the sizes do not start with x's leading dims [0, k)"
    return None


def _attrs(m: Match) -> dict[str, Any]:
    k = _prefix_length(m) or 0
    tail = len(m.view.constant(m["tail"]))
    return {**m.node("resize").attrs, "axes": list(range(k, k + tail))}


RULE = Rule(
    name="resize_sizes_from_shape",
    anchors=("Resize",),
    forms=(Form(_resize(_PREFIX), "Resize", ("x", "roi", "scales", "tail"), (ROOT,), _attrs, domain=""),),
    check=_check,
)
