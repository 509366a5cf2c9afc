"""What erf-GELU and tanh-GELU exports share (patterns, not a rule): the tail
0.5 * x * (1 + f(...)), with the 0.5 applied to x, to the product or to (1 + f), and the
optional bias Add before x that the fused ops take as a second input."""

from __future__ import annotations

from collections.abc import Callable

from .pattern import Match, Pattern, const, either, op, var
from .rule import Form, constant_1d, not_constant

PLAIN_X = var("x")
BIASED_X = op("Add", var("h", where=not_constant), var("bias", where=constant_1d), name="x")


def gelu_tail(activation: Pattern, x: Pattern) -> Pattern:
    one_plus = op("Add", activation, const(1.0))
    return either(
        op("Mul", op("Mul", x, one_plus), const(0.5)),
        op("Mul", op("Mul", one_plus, const(0.5)), x),
        op("Mul", op("Mul", x, const(0.5)), one_plus),
    )


def bias_forms(gelu: Callable[[Pattern], Pattern], biased: str, plain: str) -> tuple[Form, ...]:
    """com.microsoft::<biased>(h, bias) when x = Add(h, 1-D constant bias), then <plain>(x)."""
    return (Form(gelu(BIASED_X), biased, ("h", "bias")), Form(gelu(PLAIN_X), plain, ("x",)))


def check_bias_length(match: Match) -> str | None:
    if "bias" not in match.bound:
        return None
    shape, bias = match.view.shape(match["h"]), match.view.constant(match["bias"])
    if shape and isinstance(shape[-1], int) and bias is not None and bias.shape != (shape[-1],):
        return f"bias of shape {bias.shape} does not match the last dimension {shape[-1]}"
    return None
