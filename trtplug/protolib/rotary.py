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
