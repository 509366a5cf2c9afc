"""Shared pieces of the CuPy prototypes in pyplugins/: the GELU-family activations and the
"Y = act(X [+ bias]) [+ skip]" driver, written against an array module `xp` (NumPy or CuPy) so
one prototype runs on the CPU and on the GPU. Math is float32, fp16 and bf16 data converted
around it, like the CUDA kernels; the parity suite checks every prototype against an independent reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import on_float32_stand_ins
from trtplug.protolib.gpu_source import has_bf16

Activation = Callable[[ModuleType, Any], Any]

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
SQRT_HALF = math.sqrt(0.5)
# Numerical Recipes' erfc Chebyshev fit (fractional error < 1.2e-7 everywhere): NumPy has no
# erf, and one formula keeps the NumPy and CuPy prototypes identical.
_ERFC_COEFFS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def with_cuda(expr: str, **params: float) -> Callable[[Activation], Activation]:
    """Attaches the activation's CUDA C expression of float `v` (and named float parameters):
    the GPU fast path (trtplug/protolib/gpu_kernels.py) computes the same formula in one kernel."""

    def attach(activation: Activation) -> Activation:
        activation.cuda, activation.params = expr, params  # type: ignore[attr-defined]
        return activation

    return attach


def erfc(xp: ModuleType, x: Any) -> Any:
    z = xp.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = xp.zeros_like(t) + _ERFC_COEFFS[-1]
    for c in reversed(_ERFC_COEFFS[:-1]):
        poly = c + t * poly
    tail = t * xp.exp(-z * z + poly)
    return xp.where(x >= 0, tail, 2.0 - tail)


@with_cuda("v")
def identity(xp: ModuleType, v: Any) -> Any:
    return v


# The GPU form is the CUDA plugin's 1 + erff (erfcf costs about twice the instructions, and the
# 16-bit kernels are bound by them); it loses relative accuracy only where |y| < 1e-6 for v << 0.
@with_cuda("0.5f * v * (1.0f + erff(0.70710678118654752f * v))")
def gelu_erf(xp: ModuleType, v: Any) -> Any:
    """0.5 v (1 + erf(v / sqrt 2)) as 0.5 v erfc(-v / sqrt 2): no cancellation for v << 0."""
    return 0.5 * v * erfc(xp, -SQRT_HALF * v)


@with_cuda("0.5f * v * (1.0f + tanhf(0.79788456080286536f * v * (1.0f + 0.044715f * v * v)))")
def gelu_tanh(xp: ModuleType, v: Any) -> Any:
    return 0.5 * v * (1.0 + xp.tanh(SQRT_2_OVER_PI * v * (1.0 + 0.044715 * v * v)))


def quick_gelu(alpha: float) -> Activation:
    """v * sigmoid(alpha v), via tanh so large |alpha v| cannot overflow exp."""

    @with_cuda("v * (0.5f + 0.5f * tanhf((0.5f * alpha) * v))", alpha=alpha)
    def activation(xp: ModuleType, v: Any) -> Any:
        return v * (0.5 + 0.5 * xp.tanh((0.5 * alpha) * v))

    return activation


def bias_activation(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], activation: Activation) -> None:
    """outputs[0] = activation(X + bias) + skip; inputs are (X[, bias[, skip]]), bias/skip may be None.
    On a GPU, bf16 tensors (Bf16Device) go to the fast path, else through float32 stand-ins."""
    from trtplug.protolib import gpu_kernels

    x, bias, skip = [*inputs, None, None][:3]
    fast = gpu_kernels.is_cupy(xp) and hasattr(activation, "cuda")
    if fast and gpu_kernels.bias_activation(x, bias, skip, outputs[0], activation.cuda, activation.params):
        return
    if has_bf16([x, bias, skip, outputs[0]]):
        on_float32_stand_ins(xp, [x, bias, skip], outputs[:1], lambda i, o: bias_activation(xp, i, o, activation))
        return
    v = x.astype(xp.float32)
    if bias is not None:
        v = v + bias.astype(xp.float32)
    y = activation(xp, v)
    if skip is not None:
        y = y + skip.astype(xp.float32)
    outputs[0][...] = y.astype(outputs[0].dtype)
