"""Rotary position embedding shared by the RotaryEmbedding prototypes and GroupQueryAttention's
do_rotary step: the same problem as the CUDA kernel (plugins/common/rotary.h), in float32."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def rotate(xp: ModuleType, x: Any, cos: Any, sin: Any, rotary_dim: int, interleaved: bool) -> Any:
    """x [..., seq, headDim] rotated over its first rotary_dim dims with cos/sin [..., seq,
    rotary_dim / 2] (broadcast over the heads axis by the caller's shapes); float32 result."""
    x = x.astype(xp.float32)
    cos, sin = cos.astype(xp.float32), sin.astype(xp.float32)
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    if interleaved:
        a, b = rot[..., 0::2], rot[..., 1::2]
    else:
        a, b = rot[..., : rotary_dim // 2], rot[..., rotary_dim // 2 :]
    ra, rb = a * cos - b * sin, b * cos + a * sin
    pairs = xp.stack([ra, rb], axis=-1).reshape(rot.shape)
    rotated = pairs if interleaved else xp.concatenate([ra, rb], axis=-1)
    return xp.concatenate([rotated, rest], axis=-1)


def rotary_embedding(
    xp: ModuleType,
    x: Any,
    cos: Any,
    sin: Any,
    positions: Any | None,
    num_heads: int,
    rotary_dim: int,
    interleaved: bool,
) -> Any:
    """RotaryEmbedding of x [B, N, S, H] or [B, S, N * H] (num_heads splits the last axis), same
    shape out, float32. positions [B, S] index the [maxPos, rotary_dim / 2] caches; None: the
    caches are already per token, [B, S, rotary_dim / 2] or [1, S, rotary_dim / 2] for every batch
    entry (torch.onnx's export of transformers' Llama). rotary_dim 0 means the head size."""
    four_d = x.ndim == 4
    batch = x.shape[0]
    tokens = x.shape[2] if four_d else x.shape[1]
    bsnh = xp.transpose(x, (0, 2, 1, 3)) if four_d else x.reshape(batch, tokens, num_heads, x.shape[2] // num_heads)
    rotary_dim = rotary_dim or bsnh.shape[3]
    if positions is not None:
        cos, sin = cos[positions], sin[positions]
    per_row = (batch, tokens, 1, rotary_dim // 2)
    cos = xp.broadcast_to(cos.reshape(cos.shape[0], *per_row[1:]), per_row)
    sin = xp.broadcast_to(sin.reshape(sin.shape[0], *per_row[1:]), per_row)
    y = rotate(xp, bsnh, cos, sin, rotary_dim, interleaved)
    return xp.transpose(y, (0, 2, 1, 3)) if four_d else y.reshape(x.shape)
