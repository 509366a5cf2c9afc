"""The two forms LayerNorm over the last axis takes in exported models (a matcher, not a rule):

    LayerNormalization(x, gamma, beta, axis=-1)                       (opset 17+)
    Add(Mul(Div(Sub(x, m), Sqrt(Add(ReduceMean(Pow(Sub(x, m), 2)), eps))), gamma), beta),
        m = ReduceMean(x, axes=[-1])                                  (torch.onnx, opset < 17)

Anchors: the LayerNormalization node, or the Sqrt of the decomposed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from .graph_view import GraphView
from .rule import attribute, close, is_op, last_axis, other_input, sole_consumer, split_constant

DEFAULT_EPSILON = 1e-5


@dataclass
class LayerNorm:
    input: str
    gamma: str
    beta: str  # "" when absent
    epsilon: float
    output: str
    nodes: list[onnx.NodeProto]


def match_layer_norm(view: GraphView, anchor: onnx.NodeProto) -> LayerNorm | str | None:
    if is_op(anchor, "LayerNormalization"):
        return _fused_form(view, anchor)
    if is_op(anchor, "Sqrt"):
        return _decomposed_form(view, anchor)
    return None


def _rank(view: GraphView, name: str) -> int | None:
    shape = view.shape(name)
    return len(shape) if shape is not None else None


def _fused_form(view: GraphView, node: onnx.NodeProto) -> LayerNorm | str:
    if not last_axis([attribute(node, "axis", -1)], _rank(view, node.input[0])):
        return "LayerNormalization does not normalize over the last axis"
    if any(out and view.consumers(out) for out in node.output[1:]):
        return "LayerNormalization's Mean/InvStdDev outputs are used"
    beta = node.input[2] if len(node.input) > 2 else ""
    epsilon = float(attribute(node, "epsilon", DEFAULT_EPSILON))
    return LayerNorm(node.input[0], node.input[1], beta, epsilon, node.output[0], [node])


def _reduce_mean_last(view: GraphView, node: onnx.NodeProto | None) -> bool:
    """ReduceMean over the last axis with keepdims (axes as attribute, or input from opset 18)."""
    if not is_op(node, "ReduceMean") or attribute(node, "keepdims", 1) != 1:
        return False
    axes = attribute(node, "axes")
    if axes is None and len(node.input) > 1:
        value = view.constant(node.input[1])
        axes = value.reshape(-1).tolist() if value is not None else None
    return last_axis(axes, _rank(view, node.input[0]))


def _variance_chain(view: GraphView, sqrt: onnx.NodeProto) -> tuple[list[onnx.NodeProto], str, float] | str | None:
    """Nodes of Sqrt(ReduceMean(Pow(d, 2)) + eps), d = Sub(x, mean), and (d, eps)."""
    add_eps = view.producer(sqrt.input[0])
    if not is_op(add_eps, "Add"):
        return None
    epsilon, variance = split_constant(view, add_eps)
    var_mean = view.producer(variance) if variance else None
    if epsilon is None or not _reduce_mean_last(view, var_mean):
        return None
    square = view.producer(var_mean.input[0])
    if not is_op(square, "Pow") or not close(view.scalar(square.input[1]), 2.0):
        return "the variance is not a mean of squares (Pow(d, 2))"
    centered = view.producer(square.input[0])
    mean = view.producer(centered.input[1]) if is_op(centered, "Sub") else None
    if mean is None or not _reduce_mean_last(view, mean) or mean.input[0] != centered.input[0]:
        return "the squared term is not x - ReduceMean(x) over the last axis"
    return [mean, centered, square, var_mean, add_eps, sqrt], square.input[0], epsilon


def _decomposed_form(view: GraphView, sqrt: onnx.NodeProto) -> LayerNorm | str | None:
    chain = _variance_chain(view, sqrt)
    if chain is None or isinstance(chain, str):
        return chain
    nodes, centered, epsilon = chain
    divide = sole_consumer(view, sqrt.output[0], "Div")
    if divide is None or list(divide.input) != [centered, sqrt.output[0]]:
        return "x - mean is not divided by the standard deviation"
    scale = sole_consumer(view, divide.output[0], "Mul")
    if scale is None:
        return "the normalized tensor is not scaled by gamma"
    gamma = other_input(scale, divide.output[0])
    nodes += [divide, scale]
    shift = sole_consumer(view, scale.output[0], "Add")
    beta = other_input(shift, scale.output[0]) if shift is not None else None
    if beta is not None and _rank(view, beta) == 1:
        return LayerNorm(nodes[0].input[0], gamma, beta, epsilon, shift.output[0], [*nodes, shift])
    return LayerNorm(nodes[0].input[0], gamma, "", epsilon, scale.output[0], nodes)
