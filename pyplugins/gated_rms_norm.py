"""GatedRMSNorm prototype (com.microsoft::GatedRMSNorm, plugins/gated_rms_norm/spec.toml):
Y = X * rsqrt(mean(X^2) + epsilon) * scale * act(gate) over each group of C = scale.size
elements of X's last axis, act silu/swish or sigmoid, in float32 (trtplug/protolib/norm.py's
RMS rows, the statistics the skip and RMS norms share). Array code only (NumPy on the CPU, CuPy
on the GPU); bf16 arrives as float32 upcasts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.norm import normalize_rows

Attrs = Mapping[str, Any]
# Qwen3.5's linear attention: 32 value heads of 128, per-head norm over a [tokens, 4096] output.
BENCH_HIDDEN, BENCH_GROUP = 4096, 128


def _gate_factor(xp: ModuleType, z: Any, activation: str) -> Any:
    sigmoid = 1.0 / (1.0 + xp.exp(-z))
    return sigmoid if activation == "sigmoid" else z * sigmoid


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, scale, gate = inputs[:3]
    group = scale.size
    if x.shape[-1] % group:
        raise ValueError(f"X last dimension ({x.shape[-1]}) must be a multiple of the scale length ({group})")
    rows = x.reshape(-1, group).astype(xp.float32)
    y, _, _ = normalize_rows(xp, rows, scale.reshape(-1), None, float(attrs.get("epsilon", 1e-5)), rms=True)
    z = gate.reshape(-1, group).astype(xp.float32)
    y = y * _gate_factor(xp, z, str(attrs.get("activation", "silu")))
    outputs[0][...] = y.reshape(x.shape).astype(outputs[0].dtype)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """What a torch user writes: F.rms_norm per group, times F.silu(gate) (or sigmoid)."""
    x, scale, gate = inputs[:3]
    group = scale.numel()
    rows = x.reshape(-1, group).float()
    y = torch.nn.functional.rms_norm(rows, (group,), scale.reshape(-1).float(), float(attrs.get("epsilon", 1e-5)))
    z = gate.reshape(-1, group).float()
    act = torch.sigmoid(z) if attrs.get("activation", "silu") == "sigmoid" else torch.nn.functional.silu(z)
    return (y * act).reshape(x.shape).to(x.dtype)


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Tokens of Qwen3.5's linear-attention output filling `nbytes` of X (gate the same)."""
    rows = max(1, nbytes // itemsize // BENCH_HIDDEN)
    return {"X": (rows, BENCH_HIDDEN), "scale": (BENCH_GROUP,), "gate": (rows, BENCH_HIDDEN)}
