"""Sub-byte integer codes packed along a tensor's last axis, low bits of each byte first (ONNX
Runtime's uint8 layout for 2/4-bit weights: MatMulNBits' B, GatherBlockQuantized's table). NumPy
or CuPy (`xp`)."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def unpack_last_axis(xp: ModuleType, packed: Any, bits: int) -> Any:
    """The codes of uint8 `packed` along its last axis: shape (..., last * 8 / bits), int32."""
    per_byte = 8 // bits
    shifts = xp.arange(per_byte, dtype=xp.int32) * bits
    codes = (packed[..., None].astype(xp.int32) >> shifts) & ((1 << bits) - 1)
    return codes.reshape(*packed.shape[:-1], packed.shape[-1] * per_byte)


def pack_last_axis(xp: ModuleType, codes: Any, bits: int) -> Any:
    """Codes in [0, 2^bits) packed along their last axis, a row's tail padded with zero codes:
    shape (..., ceil(last * bits / 8)), uint8."""
    per_byte = 8 // bits
    last = codes.shape[-1]
    padded = -(-last // per_byte) * per_byte
    wide = xp.zeros((*codes.shape[:-1], padded), dtype=xp.int32)
    wide[..., :last] = codes
    grouped = wide.reshape(*codes.shape[:-1], padded // per_byte, per_byte)
    shifts = xp.arange(per_byte, dtype=xp.int32) * bits
    return (grouped << shifts).sum(axis=-1).astype(xp.uint8)
