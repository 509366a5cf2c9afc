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
        v = xp.repeat(v, group, axis=1)
    _, scores, masked = score_stages(
        xp,
        q,
        k,
        scale=scale,
        causal=causal,
        q_start=q_start,
        kv_valid=kv_valid,
        window_left=window_left,
        softcap=softcap,
        softcap_after_bias=softcap_after_bias,
        bias=bias,
        mask=mask,
    )
    sink = _sink_logits(xp, q.shape[1], head_sink, smooth_softmax)
    weights = masked_softmax(xp, scores, masked, zero_fully_masked, sink)
    with _quiet(xp):
        out = xp.matmul(weights, v)
    return out.astype(xp.float32)


def score_stages(
    xp: ModuleType,
    q: Any,
    k: Any,
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
) -> tuple[Any, Any, Any]:
    """The float32 [batch, qHeads, qLen, kvLen] scores before the softmax, in the stages ops expose
    as debugging outputs: scale * q k^T (softcapped unless the cap follows the bias), the same
    with the bias added (and capped when it follows), and the boolean key mask (True: masked)."""
    q, k = q.astype(xp.float32), k.astype(xp.float32)
    group = q.shape[1] // k.shape[1]
    if group > 1:
        k = xp.repeat(k, group, axis=1)
    scale = scale or 1.0 / float(q.shape[-1]) ** 0.5
    capped = xp.matmul(q, xp.swapaxes(k, -1, -2)) * xp.float32(scale)
    if softcap > 0 and not softcap_after_bias:
        capped = xp.float32(softcap) * xp.tanh(capped / xp.float32(softcap))
    scores = capped if bias is None else capped + bias.astype(xp.float32)
    if softcap > 0 and softcap_after_bias:
        scores = xp.float32(softcap) * xp.tanh(scores / xp.float32(softcap))
    masked = _key_masks(xp, (q.shape[0], q.shape[2], k.shape[2]), q_start, kv_valid, causal, window_left)
    if mask is not None:
        masked = masked | ~mask.astype(bool)
    return capped, scores, xp.broadcast_to(masked, scores.shape)


def masked_softmax(xp: ModuleType, scores: Any, masked: Any, zero_fully_masked: bool = True, sink: Any = None) -> Any:
    """Softmax over the last axis with masked keys left out; a row with every key masked gives
    zeros (or NaN, as softmax of all -inf does, when not zero_fully_masked). `sink` [1, heads,
    1, 1]: one more logit per row that attends to nothing (GroupQueryAttention's head sink)."""
    scores = xp.where(masked, xp.float32(-xp.inf), scores)
    peak = scores.max(axis=-1, keepdims=True)
    if sink is not None:
        peak = xp.maximum(peak, sink)
    peak = xp.where(xp.isfinite(peak), peak, xp.float32(0))
    weights = xp.exp(scores - peak)
    total = weights.sum(axis=-1, keepdims=True)
    if sink is not None:
        total = total + xp.exp(sink - peak)
    with _quiet(xp):
        weights = weights / total
    return xp.where(total > 0, weights, xp.float32(0)) if zero_fully_masked else weights


def _sink_logits(xp: ModuleType, heads: int, head_sink: Any, smooth_softmax: bool) -> Any:
    """[1, heads, 1, 1] sink logits, or None when the softmax has none."""
    if head_sink is not None:
        return xp.asarray(head_sink, dtype=xp.float32).reshape(1, heads, 1, 1)
    return xp.zeros((1, heads, 1, 1), xp.float32) if smooth_softmax else None


def _quiet(xp: ModuleType) -> Any:
    """0/0 for fully masked rows is intended (NaN, or replaced by zeros): no NumPy warning."""
    import contextlib

    return xp.errstate(invalid="ignore", divide="ignore") if hasattr(xp, "errstate") else contextlib.nullcontext()


def key_mask_bias(xp: ModuleType, attend: Any, attention_bias: Any, filter_value: float) -> Any:
    """ONNX Runtime's com.microsoft key masks (Attention's mask_index, MultiHeadAttention's
    key_padding_mask) as a float32 additive score bias: filter_value where `attend` (True: the key
    counts) is False, plus attention_bias; attention_bias alone when there is no mask."""
    if attend is None:
        return attention_bias
    filtered = xp.where(attend, xp.float32(0), xp.float32(filter_value))
    return filtered if attention_bias is None else filtered + attention_bias.astype(xp.float32)
