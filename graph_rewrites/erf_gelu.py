"""Erf-GELU as torch.onnx exports nn.GELU() (and the Linear bias Add before it):

    Mul(Mul(x, Add(Erf(Div(x, sqrt2)), 1)), 0.5)       -> com.microsoft::Gelu(x)
    same, with x = Add(h, bias), bias a 1-D constant   -> com.microsoft::BiasGelu(h, bias)

Also matched: Mul(x, 1/sqrt2) for the Div, the 0.5 applied to x first or to the Erf branch,
operands of Add/Mul in either order. Conditions: the constants are sqrt2 (or 1/sqrt2), 1 and
0.5 (relative tolerance 1e-3); intermediate tensors are read only inside the pattern. When no
plugin covers BiasGelu (or the biased sum is read elsewhere), the Gelu form without the bias
Add is tried.
"""

from __future__ import annotations

import math

import onnx

from .gelu_forms import bias_variants, check_bias_length, gelu_tail
from .graph_view import GraphView
from .rule import Fusion, Rule, close, is_op, split_constant

SQRT2 = math.sqrt(2.0)


def _erf_argument(view: GraphView, erf: onnx.NodeProto) -> tuple[str, onnx.NodeProto] | None:
    """x and the scaling node when Erf reads x / sqrt2 (or x * 1/sqrt2)."""
    scale = view.producer(erf.input[0])
    if is_op(scale, "Div"):
        value = view.scalar(scale.input[1])
        return (scale.input[0], scale) if close(value, SQRT2) else None
    if is_op(scale, "Mul"):
        value, x = split_constant(view, scale)
        return (x, scale) if close(value, 1 / SQRT2) else None
    return None


class ErfGelu(Rule):
    name = "erf_gelu"
    anchors = ("Erf",)
    produces = ("BiasGelu", "Gelu")

    def match(self, view: GraphView, anchor: onnx.NodeProto) -> list[Fusion] | str | None:
        found = _erf_argument(view, anchor)
        if found is None:
            return None  # an Erf that is not GELU's
        x, scale = found
        tail = gelu_tail(view, x, anchor, "erf(x / sqrt2)")
        if isinstance(tail, str):
            return tail
        nodes, y = tail
        return bias_variants(view, x, [scale, anchor, *nodes], y, "BiasGelu", "Gelu")

    def check(self, view: GraphView, fusion: Fusion) -> str | None:
        return check_bias_length(view, fusion) or super().check(view, fusion)


RULE = ErfGelu()
