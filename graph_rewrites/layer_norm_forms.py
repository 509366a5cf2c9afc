"""The forms LayerNorm over the last axis takes in exported models (patterns, not a rule):

    LayerNormalization(x, gamma, beta, axis=-1)                       (opset 17+)
    Add(Mul(Div(Sub(x, m), Sqrt(Add(ReduceMean(Pow(Sub(x, m), 2)), eps))), gamma), beta),
        m = ReduceMean(x, axes=[-1])                                  (torch.onnx, opset < 17)
    the same without the beta Add

Bound names: gamma, beta (absent when there is none), the `norm` node (fused form) or the
`eps` constant (decomposed form).
"""

from __future__ import annotations

from typing import Any

from .pattern import Match, Pattern, const, op, opt, var
from .rule import last_axis, rank

DEFAULT_EPSILON = 1e-5


def _mean_over_last(node: Any, m: Match) -> bool:
    """ReduceMean over the last axis with keepdims (axes as attribute, or input from opset 18)."""
    if node.attrs.get("keepdims", 1) != 1:
        return False
    axes = node.attrs.get("axes")
    if axes is None and len(node.inputs) > 1:
        value = m.view.constant(node.inputs[1].name)
        axes = value.reshape(-1).tolist() if value is not None else None
    return last_axis(axes, rank(m, node.inputs[0].name))


def _rank1(name: str, m: Match) -> bool:
    return rank(m, name) == 1


def layer_norms(x: Pattern) -> tuple[Pattern, ...]:
    """LayerNorm(x) in each form, the most complete first."""
    centered = op("Sub", x, op("ReduceMean", x, where=_mean_over_last), name="centered")
    variance = op("ReduceMean", op("Pow", centered, const(2.0)), where=_mean_over_last)
    std = op("Sqrt", op("Add", variance, const(name="eps")))
    scaled = op("Mul", op("Div", centered, std), var("gamma"))
    fused = op("LayerNormalization", x, var("gamma"), opt(var("beta")), name="norm")
    return fused, op("Add", scaled, var("beta", where=_rank1)), scaled


def epsilon(m: Match) -> float:
    if "norm" in m.named_nodes:
        return float(m.node("norm").attrs.get("epsilon", DEFAULT_EPSILON))
    return float(m.scalar("eps"))


def check_fused_norm(m: Match) -> str | None:
    """What the LayerNormalization node must satisfy to become part of a fused op."""
    if "norm" not in m.named_nodes:
        return None
    node = m.node("norm")
    if not last_axis([node.attrs.get("axis", -1)], rank(m, node.inputs[0].name)):
        return "LayerNormalization does not normalize over the last axis"
    if any(out.name and m.view.consumers(out.name) for out in node.outputs[1:]):
        return "LayerNormalization's Mean/InvStdDev outputs are used"
    return None
