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

from .gelu_forms import PLAIN_X, bias_forms, check_bias_length, gelu_tail
from .pattern import Pattern, const, either, op
from .rule import Rule

SQRT2 = math.sqrt(2.0)


def erf_of_scaled(x: Pattern) -> Pattern:
    return op("Erf", either(op("Div", x, const(SQRT2)), op("Mul", x, const(1 / SQRT2))))


def gelu(x: Pattern) -> Pattern:
    return gelu_tail(erf_of_scaled(x), x)


RULE = Rule(
    name="erf_gelu",
    anchors=("Erf",),
    forms=bias_forms(gelu, "BiasGelu", "Gelu"),
    check=check_bias_length,
    near_misses=(
        (erf_of_scaled(PLAIN_X), "erf(x / sqrt2) is not followed by + 1"),
        (op("Add", erf_of_scaled(PLAIN_X), const(1.0)), "1 + erf(...) is not multiplied by x and 0.5"),
    ),
)
