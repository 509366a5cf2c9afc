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

from .gelu_forms import PLAIN_X, bias_forms, check_bias_length, gelu_tail
from .pattern import Pattern, const, either, op
from .rule import Rule

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


def tanh_of_cubic(x: Pattern) -> Pattern:
    cube = either(op("Pow", x, const(3.0)), op("Mul", op("Mul", x, x), x))
    inner = op("Add", x, op("Mul", cube, const(CUBIC)))
    return op("Tanh", op("Mul", inner, const(SQRT_2_OVER_PI)))


def gelu(x: Pattern) -> Pattern:
    return gelu_tail(tanh_of_cubic(x), x)


RULE = Rule(
    name="tanh_gelu",
    anchors=("Tanh",),
    forms=bias_forms(gelu, "FastGelu", "FastGelu"),
    check=check_bias_length,
    near_misses=(
        (tanh_of_cubic(PLAIN_X), "tanh(sqrt(2/pi) (x + 0.044715 x^3)) is not followed by + 1"),
        (op("Add", tanh_of_cubic(PLAIN_X), const(1.0)), "1 + tanh(...) is not multiplied by x and 0.5"),
    ),
)
