"""What erf-GELU and tanh-GELU exports share (a matcher, not a rule): the tail
0.5 * x * (1 + f(...)), with the 0.5 applied to x, to the product or to (1 + f), and the
optional bias Add before x that the fused ops take as a second input."""

from __future__ import annotations

import onnx

from .graph_view import GraphView
from .rule import Fusion, bias_operand, close, is_op, other_input, sole_consumer, split_constant


def _half_product(view: GraphView, x: str, one_plus: onnx.NodeProto) -> tuple[list[onnx.NodeProto], str] | str:
    """The Mul nodes computing 0.5 * x * (1 + f) from the Add output, and the result tensor."""
    first = sole_consumer(view, one_plus.output[0], "Mul")
    if first is None:
        return "1 + f(...) is not multiplied by x"
    operand = other_input(first, one_plus.output[0])
    half, _ = split_constant(view, first)
    producer = view.producer(operand) if operand else None
    if operand == x or close(half, 0.5):  # (x * (1 + f)) * 0.5  or  ((1 + f) * 0.5) * x
        second = sole_consumer(view, first.output[0], "Mul")
        if second is None:
            return "the product is not completed by a second Mul"
        rest = other_input(second, first.output[0])
        ok = close(view.scalar(rest), 0.5) if operand == x else rest == x
        return ([first, second], second.output[0]) if ok else "the second Mul is not by 0.5 (or by x)"
    if is_op(producer, "Mul") and close(split_constant(view, producer)[0], 0.5) and x in producer.input:
        return [producer, first], first.output[0]  # (x * 0.5) * (1 + f)
    return "1 + f(...) is multiplied by something other than x or 0.5 * x"


def gelu_tail(view: GraphView, x: str, activation: onnx.NodeProto, what: str) -> tuple[list, str] | str:
    """Nodes of 0.5 * x * (1 + activation(...)) after the activation node, and the output."""
    one_plus = sole_consumer(view, activation.output[0], "Add")
    if one_plus is None or not close(split_constant(view, one_plus)[0], 1.0):
        return f"{what} is not followed by + 1"
    product = _half_product(view, x, one_plus)
    if isinstance(product, str):
        return product.replace("f(...)", f"{activation.op_type.lower()}(...)")
    muls, y = product
    return [one_plus, *muls], y


def bias_variants(
    view: GraphView, x: str, nodes: list[onnx.NodeProto], y: str, biased: str, plain: str
) -> list[Fusion]:
    """com.microsoft::<biased>(h, bias) when x = Add(h, 1-D constant bias), then <plain>(x)."""
    fusions = []
    found = bias_operand(view, view.producer(x))
    if found is not None:
        h, bias = found
        fusions.append(Fusion([view.producer(x), *nodes], "com.microsoft", biased, [h, bias], [y]))
    fusions.append(Fusion(nodes, "com.microsoft", plain, [x], [y]))
    return fusions


def check_bias_length(view: GraphView, fusion: Fusion) -> str | None:
    if len(fusion.inputs) < 2:
        return None
    shape, bias = view.shape(fusion.inputs[0]), view.constant(fusion.inputs[1])
    if shape and isinstance(shape[-1], int) and bias is not None and bias.shape != (shape[-1],):
        return f"bias of shape {bias.shape} does not match the last dimension {shape[-1]}"
    return None
