"""Tanh-GELU as torch.onnx exports nn.GELU(approximate="tanh") and HF's NewGELU/gelu_new:

    Mul(Mul(x, Add(Tanh(Mul(Add(x, Mul(Pow(x, 3), 0.044715)), sqrt(2/pi))), 1)), 0.5)
        -> com.microsoft::FastGelu(x)
    same, with x = Add(h, bias), bias a 1-D constant -> com.microsoft::FastGelu(h, bias)

Also matched: x^3 as Mul(Mul(x, x), x), the 0.5 applied to x first or to the Tanh branch,
operands of Add/Mul in either order. Conditions: the constants are 0.044715, sqrt(2/pi), 1 and
0.5 (relative tolerance 1e-3); intermediate tensors are read only inside the pattern.
"""

from __future__ import annotations

import math

import onnx

from .gelu_forms import bias_variants, check_bias_length, gelu_tail
from .graph_view import GraphView
from .rule import Fusion, Rule, close, is_op, split_constant

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


def _cube(view: GraphView, name: str) -> tuple[str, list[onnx.NodeProto]] | None:
    """(x, nodes) when `name` is x^3: Pow(x, 3) or Mul(Mul(x, x), x)."""
    node = view.producer(name)
    if is_op(node, "Pow") and close(view.scalar(node.input[1]), 3.0):
        return node.input[0], [node]
    if is_op(node, "Mul") and len(node.input) == 2:
        for square_name, x in ((node.input[0], node.input[1]), (node.input[1], node.input[0])):
            square = view.producer(square_name)
            if is_op(square, "Mul") and list(square.input) == [x, x]:
                return x, [square, node]
    return None


def _tanh_argument(view: GraphView, tanh: onnx.NodeProto) -> tuple[str, list[onnx.NodeProto]] | None:
    """x and the nodes of sqrt(2/pi) * (x + 0.044715 x^3) feeding Tanh."""
    outer = view.producer(tanh.input[0])
    if not is_op(outer, "Mul"):
        return None
    scale, inner_name = split_constant(view, outer)
    inner = view.producer(inner_name) if inner_name else None
    if not close(scale, SQRT_2_OVER_PI) or not is_op(inner, "Add") or len(inner.input) != 2:
        return None
    for term_name, x in ((inner.input[0], inner.input[1]), (inner.input[1], inner.input[0])):
        term = view.producer(term_name)
        if not is_op(term, "Mul"):
            continue
        coefficient, cube_name = split_constant(view, term)
        cube = _cube(view, cube_name) if cube_name and close(coefficient, CUBIC) else None
        if cube is not None and cube[0] == x:
            return x, [*cube[1], term, inner, outer]
    return None


class TanhGelu(Rule):
    name = "tanh_gelu"
    anchors = ("Tanh",)
    produces = ("FastGelu",)

    def match(self, view: GraphView, anchor: onnx.NodeProto) -> list[Fusion] | str | None:
        found = _tanh_argument(view, anchor)
        if found is None:
            return None  # a Tanh that is not GELU's
        x, head = found
        tail = gelu_tail(view, x, anchor, "tanh(sqrt(2/pi) (x + 0.044715 x^3))")
        if isinstance(tail, str):
            return tail
        nodes, y = tail
        return bias_variants(view, x, [*head, anchor, *nodes], y, "FastGelu", "FastGelu")

    def check(self, view: GraphView, fusion: Fusion) -> str | None:
        return check_bias_length(view, fusion) or super().check(view, fusion)


RULE = TanhGelu()
