"""GatedAdd prototype (com.microsoft::GatedAdd, plain mode; plugins/gated_add/spec.toml):
output = X + round_to_T(Y * gate), gate (..., 1) one value per row of X's last axis. In float32,
the product rounded to the run's type before the add, as ONNX Runtime's separate Mul and Add round
it, and the sum rounded once. Array code only (NumPy on the CPU, CuPy on the GPU)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import (
    BFLOAT16,
    bf16_bits_to_float32,
    float32_to_bf16_bits,
    is_bf16,
    on_float32_stand_ins,
)

Attrs = Mapping[str, Any]
BENCH_HIDDEN = 2048  # Qwen3.5-MoE's hidden size

# bf16 arrives as bf16 (a Bf16Device on a GPU), not as float32 stand-ins: the product is rounded to
# the run's type, which a stand-in would hide.
takes_bf16 = True


def rounded(xp: ModuleType, values: Any, dtype: str) -> Any:
    """float32 `values` rounded to `dtype` (nearest even) and back to float32."""
    if dtype == BFLOAT16:
        return bf16_bits_to_float32(xp, float32_to_bf16_bits(xp, values))
    return values if dtype == "float32" else values.astype(dtype).astype(xp.float32)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    if len(inputs) > 3:
        raise ValueError("gate_weight (GatedAdd's projected mode) is not supported")
    dtype = BFLOAT16 if is_bf16(inputs[0]) else str(inputs[0].dtype)

    def compute(ins: list[Any], outs: list[Any]) -> None:
        x, y, gate = (a.astype(xp.float32, copy=False) for a in ins)
        if x.ndim < 1 or x.shape[-1] < 1 or y.shape != x.shape or gate.shape != (*x.shape[:-1], 1):
            raise ValueError(
                "GatedAdd takes X (..., C) with C >= 1, Y of X's shape and gate (..., 1) of X's leading dims: "
                f"X {x.shape}, Y {y.shape}, gate {gate.shape}"
            )
        product = rounded(xp, y * gate, dtype)
        outs[0][...] = (x + product).astype(outs[0].dtype)

    on_float32_stand_ins(xp, list(inputs[:3]), [outputs[0]], compute)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """What a torch user writes (transformers' Qwen3.5-MoE sparse block): the product in the tensors'
    type, then the add."""
    x, y, gate = inputs[:3]
    return x + y * gate


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Tokens of Qwen3.5-MoE's hidden size filling `nbytes` of X (Y the same, one gate per token)."""
    tokens = max(1, nbytes // itemsize // BENCH_HIDDEN)
    return {"X": (tokens, BENCH_HIDDEN), "Y": (tokens, BENCH_HIDDEN), "gate": (tokens, 1)}
