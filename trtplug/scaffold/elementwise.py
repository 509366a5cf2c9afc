"""Naive kernel bodies for elementwise ops: one expression per op, in CUDA and in NumPy/CuPy.

CUDA expressions see `v` (unary) or `a`, `b` (binary) as float and the op's params as `p`;
Python expressions see float32 arrays `v` / `a`, `b`, the array module `xp` and `attrs`. Both
compute in float32, as the references do. Ops that overflow float16 on ordinary inputs (Exp,
Reciprocal, Div) or need special functions NumPy lacks (Erf) are left out: they get the TODO
body like any other op.
"""

from __future__ import annotations

from dataclasses import dataclass

from trtplug.scaffold.describe import OpDescription


@dataclass(frozen=True)
class Elementwise:
    arity: int  # 1: y = f(v); 2: c = f(a, b) with broadcasting
    cuda: str
    python: str
    broadcast: str = "multidirectional"  # binary: "multidirectional" (numpy) or "unidirectional" (b -> a)


def _unary(cuda: str, python: str) -> Elementwise:
    return Elementwise(1, cuda, python)


UNARY = {
    "Abs": _unary("fabsf(v)", "xp.abs(v)"),
    "Ceil": _unary("ceilf(v)", "xp.ceil(v)"),
    "Celu": _unary(
        "fmaxf(v, 0.f) + fminf(0.f, p.alpha * (expf(v / p.alpha) - 1.f))",
        'xp.maximum(v, 0) + xp.minimum(0, attrs["alpha"] * (xp.exp(v / attrs["alpha"]) - 1))',
    ),
    "Cos": _unary("cosf(v)", "xp.cos(v)"),
    "Elu": _unary("v < 0.f ? p.alpha * (expf(v) - 1.f) : v", 'xp.where(v < 0, attrs["alpha"] * (xp.exp(v) - 1), v)'),
    "Floor": _unary("floorf(v)", "xp.floor(v)"),
    "HardSigmoid": _unary(
        "fminf(fmaxf(p.alpha * v + p.beta, 0.f), 1.f)", 'xp.clip(attrs["alpha"] * v + attrs["beta"], 0, 1)'
    ),
    "HardSwish": _unary("v * fminf(fmaxf(v / 6.f + 0.5f, 0.f), 1.f)", "v * xp.clip(v / 6 + 0.5, 0, 1)"),
    "LeakyRelu": _unary("v < 0.f ? p.alpha * v : v", 'xp.where(v < 0, attrs["alpha"] * v, v)'),
    "Mish": _unary("v * tanhf(log1pf(expf(v)))", "v * xp.tanh(xp.log1p(xp.exp(v)))"),
    "Neg": _unary("-v", "-v"),
    "Relu": _unary("v < 0.f ? 0.f : v", "xp.where(v < 0, 0, v)"),
    "Round": _unary("rintf(v)", "xp.round(v)"),  # both round half to even, as ONNX does
    "Selu": _unary(
        "p.gamma * (v > 0.f ? v : p.alpha * (expf(v) - 1.f))",
        'attrs["gamma"] * xp.where(v > 0, v, attrs["alpha"] * (xp.exp(v) - 1))',
    ),
    "Sigmoid": _unary("1.f / (1.f + expf(-v))", "1 / (1 + xp.exp(-v))"),
    "Sign": _unary("float((v > 0.f) - (v < 0.f))", "xp.sign(v)"),
    "Sin": _unary("sinf(v)", "xp.sin(v)"),
    "Softplus": _unary("log1pf(expf(v))", "xp.log1p(xp.exp(v))"),
    "Softsign": _unary("v / (1.f + fabsf(v))", "v / (1 + xp.abs(v))"),
    "Tanh": _unary("tanhf(v)", "xp.tanh(v)"),
    "ThresholdedRelu": _unary("v > p.alpha ? v : 0.f", 'xp.where(v > attrs["alpha"], v, 0)'),
}

BINARY = {
    "Add": Elementwise(2, "a + b", "a + b"),
    "Sub": Elementwise(2, "a - b", "a - b"),
    "Mul": Elementwise(2, "a * b", "a * b"),
    "PRelu": Elementwise(2, "a < 0.f ? b * a : a", "xp.where(a < 0, b * a, a)", "unidirectional"),
}

FLOAT_DTYPES = ("float32", "float16", "bfloat16")


def elementwise_body(desc: OpDescription) -> Elementwise | None:
    """The naive body of a standard elementwise op whose dtypes the float kernels cover, else None."""
    if not desc.is_standard:
        return None
    body = UNARY.get(desc.op_type) or BINARY.get(desc.op_type)
    if body is None or len(desc.inputs) != body.arity or len(desc.outputs) != 1:
        return None
    if any(d not in FLOAT_DTYPES for d in desc.dtypes_of(desc.inputs[0])):
        return None
    return body
