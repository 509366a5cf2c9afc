"""ONNX Runtime's int8 KV cache (com.microsoft GroupQueryAttention, kv_cache_bit_width = 8), as its
CPU kernel computes it: a new row x enters the cache as clamp(round_half_even(x / s), -128, 127),
a zero scale dividing by 1 and NaN giving 127; attention reads code * s. The scale s is one float
(PER_TENSOR) or one per kv head and channel (PER_CHANNEL, kv_num_heads * head_size elements)."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

QUANT_TYPES = ("NONE", "PER_TENSOR", "PER_CHANNEL")


def quantized(attrs: Mapping[str, Any]) -> bool:
    """Whether the node's caches are int8 codes; the quant types must then both name a layout."""
    bits = int(attrs.get("kv_cache_bit_width", 0))
    kinds = (str(attrs.get("k_quant_type", "NONE")), str(attrs.get("v_quant_type", "NONE")))
    if bits not in (0, 8) or any(k not in QUANT_TYPES for k in kinds):
        raise ValueError(f"kv_cache_bit_width {bits} with quant types {kinds} is not covered (0 or 8)")
    if (bits == 8) != (kinds[0] != "NONE") or (bits == 8) != (kinds[1] != "NONE"):
        raise ValueError("kv_cache_bit_width = 8 needs k_quant_type and v_quant_type PER_TENSOR or PER_CHANNEL")
    return bits == 8


def broadcast_scale(xp: ModuleType, scale: Any, kind: str, kv_heads: int, head: int) -> Any:
    """The scale as float32 [1, Nk, 1, H] (PER_CHANNEL) or [1, 1, 1, 1] (PER_TENSOR)."""
    if scale is None:
        raise ValueError("a quantized cache needs k_scale and v_scale")
    flat = xp.asarray(scale, dtype=xp.float32).reshape(-1)
    want = kv_heads * head if kind == "PER_CHANNEL" else 1
    if flat.size != want:
        raise ValueError(f"{kind} scale must have {want} elements, got {flat.size}")
    return flat.reshape(1, kv_heads, 1, head) if kind == "PER_CHANNEL" else flat.reshape(1, 1, 1, 1)


def quantize(xp: ModuleType, x: Any, scale: Any) -> Any:
    """int8 codes of float32 rows x with the broadcast scale."""
    divisor = xp.where(scale == 0, xp.float32(1), scale).astype(xp.float32)
    codes = xp.rint(x.astype(xp.float32) / divisor)
    codes = xp.where(xp.isnan(codes), xp.float32(127), xp.clip(codes, -128, 127))
    return codes.astype(xp.int8)


def dequantize(xp: ModuleType, codes: Any, scale: Any) -> Any:
    """float32 values code * scale (what attention reads)."""
    return codes.astype(xp.float32) * scale
