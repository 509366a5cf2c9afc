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

from .graph_view import GraphView
from .rule import Fusion, Rule, bias_operand, close, is_op, other_input, sole_consumer, split_constant

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


def _half_product(view: GraphView, x: str, one_plus: onnx.NodeProto) -> tuple[list[onnx.NodeProto], str] | str:
    """The Mul nodes computing 0.5 * x * (1 + erf) from the Add output, and the result tensor."""
    first = sole_consumer(view, one_plus.output[0], "Mul")
    if first is None:
        return "1 + erf(...) is not multiplied by x"
    operand = other_input(first, one_plus.output[0])
    half, _ = split_constant(view, first)
    producer = view.producer(operand) if operand else None
    if operand == x or close(half, 0.5):  # (x * (1 + erf)) * 0.5  or  ((1 + erf) * 0.5) * x
        second = sole_consumer(view, first.output[0], "Mul")
        if second is None:
            return "the product is not completed by a second Mul"
        rest = other_input(second, first.output[0])
        ok = close(view.scalar(rest), 0.5) if operand == x else rest == x
        return ([first, second], second.output[0]) if ok else "the second Mul is not by 0.5 (or by x)"
    if is_op(producer, "Mul") and close(split_constant(view, producer)[0], 0.5) and x in producer.input:
        return [producer, first], first.output[0]  # (x * 0.5) * (1 + erf)
    return "1 + erf(...) is multiplied by something other than x or 0.5 * x"


class ErfGelu(Rule):
    name = "erf_gelu"
    anchors = ("Erf",)
    produces = ("BiasGelu", "Gelu")

    def match(self, view: GraphView, anchor: onnx.NodeProto) -> list[Fusion] | str | None:
        found = _erf_argument(view, anchor)
        if found is None:
            return None  # an Erf that is not GELU's
        x, scale = found
        one_plus = sole_consumer(view, anchor.output[0], "Add")
        if one_plus is None or not close(split_constant(view, one_plus)[0], 1.0):
            return "erf(x / sqrt2) is not followed by + 1"
        product = _half_product(view, x, one_plus)
        if isinstance(product, str):
            return product
        muls, y = product
        nodes = [scale, anchor, one_plus, *muls]
        fusions = []
        biased = bias_operand(view, view.producer(x))
        if biased is not None:
            h, bias = biased
            fusions.append(Fusion([view.producer(x), *nodes], "com.microsoft", "BiasGelu", [h, bias], [y]))
        fusions.append(Fusion(nodes, "com.microsoft", "Gelu", [x], [y]))
        return fusions

    def check(self, view: GraphView, fusion: Fusion) -> str | None:
        if fusion.op_type == "BiasGelu":
            shape, bias = view.shape(fusion.inputs[0]), view.constant(fusion.inputs[1])
            if shape and isinstance(shape[-1], int) and bias is not None and bias.shape != (shape[-1],):
                return f"bias of shape {bias.shape} does not match the last dimension {shape[-1]}"
        return super().check(view, fusion)


RULE = ErfGelu()
