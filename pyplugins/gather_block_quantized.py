"""GatherBlockQuantized prototype (com.microsoft GatherBlockQuantized): the codes gathered along
gather_axis, then dequantized in float32 with the scales and zero points of their blocks along
quantize_axis. NumPy on the CPU, CuPy on the GPU.

data is uint8 with 8 / bits codes per byte along its last axis (low bits first); zero_points are
packed the same way along their last axis, absent: 2^(bits - 1). An index outside [-s, s - 1]
gives zeros (ONNX Runtime 1.32).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.packed_codes import unpack_last_axis

BENCH_HIDDEN, BENCH_VOCAB, BENCH_BLOCK = 4096, 32000, 32  # a 7B model's int4 embedding table


def _axes(rank: int, attrs: Mapping[str, Any]) -> tuple[int, int]:
    return int(attrs.get("gather_axis", 0)) % rank, int(attrs.get("quantize_axis", 1)) % rank


def _per_byte(attrs: Mapping[str, Any]) -> int:
    return 8 // int(attrs.get("bits", 4))


def _codes(xp: ModuleType, packed: Any, bits: int) -> Any:
    return unpack_last_axis(xp, packed, bits) if bits < 8 else packed.astype(xp.int32)


def _zero_points(xp: ModuleType, zero_points: Any, scales: Any, bits: int) -> Any:
    """Zero points over the scales' shape (float32), or the scalar default."""
    if zero_points is None or zero_points.size == 0:
        return xp.float32(2 ** (bits - 1))
    return _codes(xp, zero_points, bits)[..., : scales.shape[-1]].astype(xp.float32)


def _valid_indices(xp: ModuleType, indices: Any, dim: int) -> tuple[Any, Any]:
    """Indices wrapped into [0, dim) (0 where out of range), and which were in range."""
    index = indices.astype(xp.int64)
    valid = (index >= -dim) & (index < dim)
    return xp.where(valid, index % max(dim, 1), 0), valid


def _per_element(xp: ModuleType, blocks: Any, axis: int, block: int, length: int) -> Any:
    """Per-block values repeated block times along `axis`, cut to `length`."""
    if blocks.ndim == 0:
        return blocks
    return xp.take(xp.repeat(blocks, block, axis=axis), xp.arange(length), axis=axis)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    data, indices, scales, zero_points = [*inputs, None][:4]
    bits, block = int(attrs.get("bits", 4)), int(attrs.get("block_size", 128))
    gather, quantize = _axes(data.ndim, attrs)
    codes = _codes(xp, data, bits)
    safe, valid = _valid_indices(xp, indices, codes.shape[gather])
    # The scales (and zero points) of the gathered slices: along the gathered axis their index is
    # the code's, or its block's when the table is quantized along that axis too.
    block_of = safe if gather != quantize else safe // block
    picked = xp.take(codes, safe, axis=gather).astype(xp.float32)
    scale = xp.take(scales.astype(xp.float32), block_of, axis=gather)
    zero = _zero_points(xp, zero_points, scales, bits)
    zero = xp.take(zero, block_of, axis=gather) if zero.ndim else zero
    if gather != quantize:  # the quantized axis, where it sits in the gathered slices
        axis = quantize if quantize < gather else quantize + indices.ndim - 1
        scale = _per_element(xp, scale, axis, block, picked.shape[axis])
        zero = _per_element(xp, zero, axis, block, picked.shape[axis])
    values = (picked - zero) * scale
    in_range = valid.reshape((1,) * gather + valid.shape + (1,) * (codes.ndim - gather - 1))
    outputs[0][...] = xp.where(in_range, values, 0).astype(outputs[0].dtype)


def _output_shape(data: Sequence[Any], indices: Sequence[Any], attrs: Mapping[str, Any]) -> tuple[Any, ...]:
    """data's shape with the gathered axis replaced by indices' shape, the packed axis unpacked."""
    codes = (*data[:-1], data[-1] * _per_byte(attrs))
    gather = _axes(len(data), attrs)[0]
    return (*codes[:gather], *indices, *codes[gather + 1 :])


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in _output_shape(inputs[0].shape, inputs[1].shape, attrs))]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions (symbolic in the TensorRT plugin: trtplug.protoplugin)."""
    return [_output_shape(inputs[0], inputs[1], attrs)]


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """An int4 embedding table (32000 x 4096, block 32); as many tokens as fill `nbytes` of float32
    output (at most 4 bytes an element: `itemsize` may be the uint8 table's, not the output's)."""
    tokens = max(1, nbytes // max(itemsize, 4) // BENCH_HIDDEN)
    blocks = BENCH_HIDDEN // BENCH_BLOCK
    return {"data": (BENCH_VOCAB, BENCH_HIDDEN // 2), "indices": (tokens,), "scales": (BENCH_VOCAB, blocks)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    return {"bits": 4, "block_size": BENCH_BLOCK, "gather_axis": 0, "quantize_axis": 1}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Token ids in range: the timed gather reads real rows."""
    return {"indices": rng.integers(0, shapes["data"][0], shapes["indices"]).astype(np.int64)}


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Only the gathered rows of the table (and their scales) are read; the output written once."""
    tokens = int(np.prod(shapes["indices"]))
    row_bytes = shapes["data"][1] + shapes["scales"][1] * itemsize
    return tokens * (row_bytes + shapes["data"][1] * 2 * itemsize + 8)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Embedding rows unpacked and dequantized in torch (gather_axis 0, quantize_axis last, bits 4,
    no zero points: bench_attrs' form), what a user without the plugin would run."""
    data, indices, scales = inputs[:3]
    block = int(attrs["block_size"])
    rows = data[indices.long()]
    codes = torch.stack([rows & 0xF, rows >> 4], dim=-1).reshape(*rows.shape[:-1], -1)
    scale = scales[indices.long()].repeat_interleave(block, dim=-1)[..., : codes.shape[-1]]
    return (codes.to(scale.dtype) - 8) * scale
