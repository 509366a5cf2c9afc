"""com.microsoft MultiHeadAttention prototype: query [B, S, N*H] (or packed QKV [B, S, N, 3, H]),
key/value [B, L, N*H] (BSNH), packed KV [B, L, N, 2, H] or BNSH [B, N, L, H] (a cross-attention
cache), bias added to q/k/v, key_padding_mask (lengths [B], or 0/1 masks [B, T] / [B, S, T]),
attention_bias, past ++ new keys/values, unidirectional (causal, the new tokens last); then
the shared float32 core (trtplug/protolib/attention.py). As in ONNX Runtime, a padded key's
score gets mask_filter_value added (plugins/common/attention_mask_bias.cuh): a row with no key
left attends to every key, and a small filter lets padded keys contribute."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.attention import attention, key_mask_bias, score_stages
from trtplug.protolib.dims import shape_only_hook


def _split_heads(x: Any, heads: int) -> Any:
    """[B, S, N*H] -> [B, N, S, H]."""
    return x.reshape(x.shape[0], x.shape[1], heads, x.shape[2] // heads).transpose(0, 2, 1, 3)


def _packed(x: Any, slot: int) -> Any:
    """Slot `slot` of a packed [B, S, N, slots, H] input as [B, N, S, H]."""
    return x[:, :, :, slot].transpose(0, 2, 1, 3)


def head_views(xp: ModuleType, inputs: Sequence[Any], heads: int) -> tuple[Any, Any, Any, bool]:
    """(q, k, v) as float32 [B, N, seq, head] with the bias added, and whether k/v came as BNSH
    (a cache: no bias, no past)."""
    query, key, value, bias = [*inputs, *[None] * 4][:4]
    if query.ndim == 5:
        q, k, v = (_packed(query, i) for i in range(3))
    else:
        q = _split_heads(query, heads)
        if key.ndim == 5:
            k, v = _packed(key, 0), _packed(key, 1)
        elif key.ndim == 4:
            k, v = key, value
        else:
            k, v = _split_heads(key, heads), _split_heads(value, heads)
    q, k, v = (a.astype(xp.float32) for a in (q, k, v))
    cache = key is not None and key.ndim == 4
    if bias is not None:
        sizes = (q.shape[-1] * heads, k.shape[-1] * heads, v.shape[-1] * heads)
        parts = xp.split(bias.astype(xp.float32), [sizes[0], sizes[0] + sizes[1]])
        q = q + parts[0].reshape(heads, 1, -1)
        if not cache:
            k, v = k + parts[1].reshape(heads, 1, -1), v + parts[2].reshape(heads, 1, -1)
    return q, k, v, cache


def _key_padding_attend(xp: ModuleType, kpm: Any, total: int) -> Any:
    """[B, 1, rows, T] (True: the key counts) from key_padding_mask: lengths [B], or a 0/1 mask
    [B, T] / [B, S, T]; None without a mask."""
    if kpm is None:
        return None
    if kpm.ndim == 1:
        return xp.arange(total)[None, None, None, :] < xp.asarray(kpm).astype(xp.int64)[:, None, None, None]
    return kpm.reshape(kpm.shape[0], 1, -1 if kpm.ndim == 3 else 1, total) != 0


def compute(xp: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[Any]:
    """[output, present_key, present_value, qk] in float32."""
    padded = [*inputs, *[None] * 8][:8]
    kpm, attention_bias, past_key, past_value = padded[4:8]
    heads = int(attrs["num_heads"])
    q, k, v, _ = head_views(xp, padded[:4], heads)
    if past_key is not None:
        k = xp.concatenate([past_key.astype(xp.float32), k], axis=2)
        v = xp.concatenate([past_value.astype(xp.float32), v], axis=2)
    batch, q_len, total = q.shape[0], q.shape[2], k.shape[2]
    options = {
        "scale": float(attrs.get("scale", 0.0)),
        "causal": bool(attrs.get("unidirectional", 0)),
        "q_start": xp.full((batch,), total - q_len, dtype=xp.int64),
        "bias": key_mask_bias(
            xp, _key_padding_attend(xp, kpm, total), attention_bias, attrs.get("mask_filter_value", -10000.0)
        ),
    }
    out = attention(xp, q, k, v, **options)
    merged = out.transpose(0, 2, 1, 3).reshape(batch, q_len, heads * v.shape[-1])
    return [merged, k, v, _qk(xp, q, k, options)]


def _qk(xp: ModuleType, q: Any, k: Any, options: dict) -> Any:
    """ONNX Runtime's qk output: scale * Q K^T + the bias (mask_filter_value on padded keys plus
    attention_bias); keys after the query (unidirectional) the lowest float."""
    _, scores, _ = score_stages(xp, q, k, **{**options, "causal": False})
    if not options["causal"]:
        return scores
    _, _, causal = score_stages(xp, q, k, scale=1.0, causal=True, q_start=options["q_start"])
    return xp.where(causal, xp.float32(-3.4028234663852886e38), scores)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    for out, value in zip(outputs, compute(xp, inputs, attrs), strict=False):
        out[...] = value.astype(out.dtype)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """output, present_key, present_value, qk shapes from the input shapes."""
    query, key, value, _, _, _, past_key, _ = [*inputs, *[None] * 8][:8]
    heads = int(attrs["num_heads"])
    if query.ndim == 5:
        batch, q_len, _, _, head = query.shape
        kv_len, v_head = q_len, head
    else:
        batch, q_len, hidden = query.shape
        head = hidden // heads
        if key.ndim == 5:
            kv_len, v_head = key.shape[1], key.shape[-1]
        elif key.ndim == 4:
            kv_len, v_head = key.shape[2], value.shape[-1]
        else:
            kv_len, v_head = key.shape[1], value.shape[-1] // heads
    total = kv_len + (0 if past_key is None else past_key.shape[2])
    qk = (batch, heads, q_len, total)
    return [(batch, q_len, heads * v_head), (batch, heads, total, head), (batch, heads, total, v_head), qk]


output_dims = shape_only_hook(output_shapes)  # the TensorRT plugin's symbolic output shapes


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Self attention, batch 4, hidden 1024 (bench_attrs: 16 heads of 64), sequence sized to ~nbytes of query."""
    seq = max(16, min(8192, nbytes // itemsize // (4 * 1024)))
    return {"query": (4, seq, 1024), "key": (4, seq, 1024), "value": (4, seq, 1024)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"num_heads": 16}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    query, key, value = inputs[:3]
    heads = int(attrs["num_heads"])
    q, k, v = (x.unflatten(-1, (heads, -1)).transpose(1, 2) for x in (query, key, value))
    out = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=bool(attrs["unidirectional"]), scale=float(attrs["scale"]) or None
    )
    return out.transpose(1, 2).flatten(2)
