"""BitShift prototype (opset-28 semantics): Z = X << Y or X >> Y with NumPy broadcasting.

A signed right shift is arithmetic; a shift amount below 0 or at least the bit width gives the
sign fill alone: -1 for a right shift of a negative X, else 0. On a GPU, same-shape aligned
tensors take one 16-byte-vector kernel (trtplug/protolib/gpu_int_kernels.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib import gpu_int_kernels


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    if gpu_int_kernels.is_cupy(xp) and gpu_int_kernels.bit_shift(*inputs[:2], outputs[0], attrs["direction"]):
        return  # same-shape aligned tensors: one 16-byte-vector kernel instead of the passes below
    x, y = xp.broadcast_arrays(inputs[0], inputs[1])
    bits = x.dtype.itemsize * 8
    valid = (y >= 0) & (y < bits)
    shift = xp.where(valid, y, 0)
    if attrs["direction"] == "LEFT":
        unsigned = xp.dtype(f"u{x.dtype.itemsize}")  # bits past the sign bit are discarded
        shifted = xp.left_shift(x.astype(unsigned), shift.astype(unsigned)).astype(x.dtype)
        result = xp.where(valid, shifted, 0)
    else:  # "RIGHT": the spec's choices allow nothing else
        fill = xp.where(x < 0, -1, 0) if x.dtype.kind == "i" else 0
        result = xp.where(valid, xp.right_shift(x, shift.astype(x.dtype)), fill)
    outputs[0][...] = result.astype(outputs[0].dtype)


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Same-shape X and Y, rows of 1024, ~nbytes of X."""
    shape = (max(1, nbytes // itemsize // 1024), 1024)
    return {"X": shape, "Y": shape}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"direction": "LEFT"}  # required on the node: no spec default


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """torch's shifts, with ONNX's (opset-28) result for shift amounts outside 0..bits-1."""
    x, y = torch.broadcast_tensors(inputs[0], inputs[1])
    bits = x.element_size() * 8
    valid = (y >= 0) & (y < bits)
    shift = torch.where(valid, y, torch.zeros_like(y))
    if attrs["direction"] == "LEFT":
        return torch.where(valid, torch.bitwise_left_shift(x, shift), torch.zeros_like(x))
    fill = torch.where(x < 0, -torch.ones_like(x), torch.zeros_like(x)) if x.is_signed() else torch.zeros_like(x)
    return torch.where(valid, torch.bitwise_right_shift(x, shift), fill)
