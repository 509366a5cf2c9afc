"""MatMulNBits prototype (com.microsoft MatMulNBits): the packed weights dequantized to float32
(N, K), then Y = A @ W^T (+ bias), all in float32. Absent optional inputs are None or empty arrays.

dequant(B)[n, k] = (q[n, k] - zp[n, blk(k)]) * scales[n, blk(k)], blk(k) = k // block_size or
g_idx[k]; q unpacked from B's bytes low bits first; zp packed uint8 (same packing, one row per n),
floats, or 2^(bits - 1) when absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.packed_codes import unpack_last_axis

BENCH_K = BENCH_N = 4096  # issue 17's shape: int4, block 32, K = N = 4096
BENCH_BLOCK = 32


def _given(array: Any) -> bool:
    return array is not None and array.size > 0


def dequantize(xp: ModuleType, b: Any, scales: Any, zero_points: Any, g_idx: Any, attrs: Mapping[str, Any]) -> Any:
    """B's weights as float32 (N, K)."""
    k, n, bits, block = int(attrs["K"]), int(attrs["N"]), int(attrs.get("bits", 4)), int(attrs["block_size"])
    blocks = -(-k // block)
    if tuple(b.shape) != (n, blocks, block * bits // 8):
        raise ValueError(f"MatMulNBits: B has shape {tuple(b.shape)}, expected {(n, blocks, block * bits // 8)}")
    codes = unpack_last_axis(xp, b.reshape(n, -1), bits)[:, :k].astype(xp.float32)
    scale = scales.reshape(n, blocks).astype(xp.float32)
    if not _given(zero_points):
        zero = xp.full((n, blocks), 2 ** (bits - 1), dtype=xp.float32)
    elif zero_points.dtype == xp.uint8:
        zero = unpack_last_axis(xp, zero_points.reshape(n, -1), bits)[:, :blocks].astype(xp.float32)
    else:
        zero = zero_points.reshape(n, blocks).astype(xp.float32)
    block_of = g_idx.astype(xp.int64) if _given(g_idx) else xp.arange(k) // block
    return (codes - zero[:, block_of]) * scale[:, block_of]


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    a, b, scales, *rest = list(inputs) + [None] * (6 - len(inputs))
    zero_points, g_idx, bias = rest[:3]
    weights = dequantize(xp, b, scales, zero_points, g_idx, attrs)
    k = weights.shape[1]
    y = a.reshape(-1, k).astype(xp.float32) @ weights.T
    if _given(bias):
        y += bias.astype(xp.float32)
    outputs[0][...] = y.reshape(outputs[0].shape).astype(outputs[0].dtype)


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """int4, block 32, K = N = 4096; A's rows sized to the request (1 row up to GEMM sizes)."""
    blocks = BENCH_K // BENCH_BLOCK
    rows = max(1, nbytes // itemsize // BENCH_K)
    return {"A": (rows, BENCH_K), "B": (BENCH_N, blocks, BENCH_BLOCK // 2), "scales": (BENCH_N, blocks)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    """The fields bench_shapes' weights were packed for."""
    return {"K": BENCH_K, "N": BENCH_N, "bits": 4, "block_size": BENCH_BLOCK}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Dequantize in torch (A's type) then torch.matmul: what a user without the plugin would run."""
    a, b, scales = inputs[:3]
    n, bits, block = int(attrs["N"]), int(attrs.get("bits", 4)), int(attrs["block_size"])
    shifts = torch.arange(0, 8, bits, device=b.device, dtype=torch.int32)
    codes = ((b.reshape(n, -1, 1).to(torch.int32) >> shifts) & ((1 << bits) - 1)).reshape(n, -1, block)
    weights = (codes.to(a.dtype) - 2 ** (bits - 1)) * scales.reshape(n, -1, 1)
    return torch.matmul(a, weights.reshape(n, -1)[:, : a.shape[-1]].T)
