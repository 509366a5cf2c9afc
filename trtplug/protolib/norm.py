"""Row normalization shared by the SkipLayerNorm, SkipSimplifiedLayerNorm and EmbedLayerNorm
prototypes: statistics over the last axis in float32, as the CUDA kernels compute them."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import on_float32_stand_ins
from trtplug.protolib.gpu_source import is_cupy


def normalize_rows(
    xp: ModuleType, s: Any, gamma: Any, beta: Any | None, epsilon: float, rms: bool
) -> tuple[Any, Any, Any]:
    """(y, mean, inv_std_var) of float32 rows `s` (..., H); mean and inv_std_var keep a last axis
    of 1. RMS form: no centering, mean reported as 0 (as ONNX Runtime reports it)."""
    if rms:
        mean = xp.zeros((*s.shape[:-1], 1), dtype=xp.float32)
        centered = s
    else:
        mean = s.mean(axis=-1, keepdims=True, dtype=xp.float32)
        centered = s - mean
    # Two-pass variance (of the centered rows), like the kernel: no cancellation for large means.
    var = (centered * centered).mean(axis=-1, keepdims=True, dtype=xp.float32)
    inv_std_var = (1.0 / xp.sqrt(var + xp.float32(epsilon))).astype(xp.float32)
    y = centered * inv_std_var * gamma.astype(xp.float32)
    if beta is not None:
        y = y + beta.astype(xp.float32)
    return y, mean, inv_std_var


def skip_norm_forward(
    xp: ModuleType,
    inputs: tuple[Any, Any, Any, Any | None, Any | None],
    outputs: Sequence[Any],
    epsilon: float,
    rms: bool,
) -> None:
    """(input, skip, gamma, beta, bias) -> outputs [output, mean?, inv_std_var?, sum?]; skip
    broadcasts over the leading axes. Only the outputs given are written."""
    from trtplug.protolib import gpu_rows

    hidden = inputs[0].shape[-1] if inputs[0].ndim else 1
    if is_cupy(xp) and gpu_rows.row_norm(xp, inputs, hidden, list(outputs), epsilon, rms):
        return
    on_float32_stand_ins(xp, list(inputs), list(outputs), lambda i, o: _skip_norm_arrays(xp, i, o, epsilon, rms))


def _skip_norm_arrays(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], epsilon: float, rms: bool) -> None:
    x, skip, gamma, beta, bias = inputs
    s = x.astype(xp.float32) + skip.astype(xp.float32)
    if bias is not None:
        s = s + bias.astype(xp.float32)
    y, mean, inv_std_var = normalize_rows(xp, s, gamma, beta, epsilon, rms)
    for out, value in zip(outputs, (y, mean, inv_std_var, s), strict=False):
        out[...] = value.astype(out.dtype)
