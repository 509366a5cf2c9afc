"""Scaled dot-product attention shared by the attention prototypes (GroupQueryAttention,
MultiHeadAttention, Attention, ai.onnx Attention): the same problem as the CUDA core
(plugins/common/attention_core.h) on [batch, heads, seq, dim] arrays, computed in float32."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def _key_masks(
    xp: ModuleType, shape: tuple[int, int, int], q_start: Any, kv_valid: Any, causal: bool, window_left: int
) -> Any:
    """Boolean [batch, 1, qLen, kvLen]: True where the key is masked out."""
    batch, q_len, kv_len = shape
    keys = xp.arange(kv_len).reshape(1, 1, kv_len)
    valid = xp.full((batch,), kv_len) if kv_valid is None else xp.asarray(kv_valid).reshape(batch)
    start = valid - q_len if q_start is None else xp.asarray(q_start).reshape(batch)
    positions = start.reshape(batch, 1, 1) + xp.arange(q_len).reshape(1, q_len, 1)
    masked = keys >= valid.reshape(batch, 1, 1)
    if causal:
        masked = masked | (keys > positions)
    if window_left >= 0:
        masked = masked | (keys < positions - window_left)
    return masked[:, None]


def attention(
    xp: ModuleType,
    q: Any,
    k: Any,
    v: Any,
    *,
    scale: float = 0.0,
    causal: bool = False,
    q_start: Any = None,
    kv_valid: Any = None,
    window_left: int = -1,
    softcap: float = 0.0,
    softcap_after_bias: bool = False,
    bias: Any = None,
    mask: Any = None,
    zero_fully_masked: bool = True,
    head_sink: Any = None,
    smooth_softmax: bool = False,
) -> Any:
    """softmax(scale * q k^T [softcap] + bias, masked) v as float32 [batch, qHeads, qLen, vDim].
    k/v may have fewer heads (GQA: query head h reads kv head h // (qHeads // kvHeads)); bias
    (additive) and mask (True attends) broadcast to [batch, qHeads, qLen, kvLen]. head_sink
    [qHeads] (or 0 for every head with smooth_softmax) is one more logit in each row's softmax
    that attends to nothing."""
    q, k, v = (a.astype(xp.float32) for a in (q, k, v))
    group = q.shape[1] // k.shape[1]
    if group > 1:
        k, v = xp.repeat(k, group, axis=1), xp.repeat(v, group, axis=1)
    scale = scale or 1.0 / float(q.shape[-1]) ** 0.5
    scores = xp.matmul(q, xp.swapaxes(k, -1, -2)) * xp.float32(scale)
    if softcap > 0 and not softcap_after_bias:
        scores = xp.float32(softcap) * xp.tanh(scores / xp.float32(softcap))
    if bias is not None:
        scores = scores + bias.astype(xp.float32)
    if softcap > 0 and softcap_after_bias:
        scores = xp.float32(softcap) * xp.tanh(scores / xp.float32(softcap))
    masked = _key_masks(xp, (q.shape[0], q.shape[2], k.shape[2]), q_start, kv_valid, causal, window_left)
    if mask is not None:
        masked = masked | ~mask.astype(bool)
    scores = xp.where(masked, xp.float32(-xp.inf), scores)
    peak = scores.max(axis=-1, keepdims=True)
    sink = _sink_logits(xp, q.shape[1], head_sink, smooth_softmax)
    if sink is not None:
        peak = xp.maximum(peak, sink)
    peak = xp.where(xp.isfinite(peak), peak, xp.float32(0))
    weights = xp.exp(scores - peak)
    total = weights.sum(axis=-1, keepdims=True)
    if sink is not None:
        total = total + xp.exp(sink - peak)
    with _quiet(xp):
        out = xp.matmul(weights / total, v)
    if zero_fully_masked:
        out = xp.where(total > 0, out, xp.float32(0))
    return out.astype(xp.float32)


def _sink_logits(xp: ModuleType, heads: int, head_sink: Any, smooth_softmax: bool) -> Any:
    """[1, heads, 1, 1] sink logits, or None when the softmax has none."""
    if head_sink is not None:
        return xp.asarray(head_sink, dtype=xp.float32).reshape(1, heads, 1, 1)
    return xp.zeros((1, heads, 1, 1), xp.float32) if smooth_softmax else None


def _quiet(xp: ModuleType) -> Any:
    """0/0 for fully masked rows is intended (NaN, or replaced by zeros): no NumPy warning."""
    import contextlib

    return xp.errstate(invalid="ignore", divide="ignore") if hasattr(xp, "errstate") else contextlib.nullcontext()
