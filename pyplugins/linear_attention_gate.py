"""LinearAttentionGate prototype (com.microsoft::LinearAttentionGate, plugins/linear_attention_gate/spec.toml):
decay = decay_scale * softplus(a + dt_bias) and, when the node uses it, beta = sigmoid(b), in
float32 (dt_bias and decay_scale are float32 per head, a's last axis). Array code only (NumPy on
the CPU, CuPy on the GPU); bf16 arrives as float32 upcasts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

Attrs = Mapping[str, Any]
BENCH_HEADS = 32  # Qwen3.5's linear-attention value heads


def softplus(xp: ModuleType, v: Any) -> Any:
    """log(1 + exp(v)) without overflow: max(v, 0) + log1p(exp(-|v|))."""
    return xp.maximum(v, 0) + xp.log1p(xp.exp(-xp.abs(v)))


def _no_overflow_warning(xp: ModuleType) -> Any:
    import contextlib

    import numpy as np

    return np.errstate(over="ignore") if xp is np else contextlib.nullcontext()


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    a, dt_bias, decay_scale = inputs[:3]
    b = inputs[3] if len(inputs) > 3 else None
    heads = a.shape[-1] if a.ndim else 1
    dt = dt_bias.astype(xp.float32).reshape(heads)
    scale = decay_scale.astype(xp.float32).reshape(heads)
    decay = scale * softplus(xp, a.astype(xp.float32) + dt)
    outputs[0][...] = decay.astype(outputs[0].dtype)
    if len(outputs) > 1 and outputs[1] is not None:
        if b is None:
            raise ValueError("The b input is required when the beta output is requested")
        with _no_overflow_warning(xp):  # exp(-b) -> inf for b << 0 gives the right limit, 0
            beta = 1.0 / (1.0 + xp.exp(-b.astype(xp.float32)))
        outputs[1][...] = beta.astype(outputs[1].dtype)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """What a torch user writes (transformers' Qwen3.5 gated delta net)."""
    a, dt_bias, decay_scale = inputs[:3]
    decay = decay_scale.float() * torch.nn.functional.softplus(a.float() + dt_bias.float())
    if int(attrs.get("num_outputs", 1)) < 2 or len(inputs) < 4 or inputs[3] is None:
        return decay.to(a.dtype)
    return decay.to(a.dtype), torch.sigmoid(inputs[3].float()).to(a.dtype)


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Tokens of Qwen3.5's heads filling `nbytes` of a (b the same)."""
    tokens = max(1, nbytes // itemsize // BENCH_HEADS)
    return {
        "a": (tokens, BENCH_HEADS),
        "dt_bias": (BENCH_HEADS,),
        "decay_scale": (BENCH_HEADS,),
        "b": (tokens, BENCH_HEADS),
    }


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"num_outputs": 2 if "b" in shapes else 1}
