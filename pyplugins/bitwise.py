"""Bitwise family prototypes (integer types): C = A & B, A | B, A ^ B with NumPy broadcasting,
and Y = ~X. One prototype per member of plugins/bitwise/spec.toml, keyed by op key. On a GPU,
same-shape aligned tensors take one 16-byte-vector kernel (trtplug/protolib/gpu_int_kernels.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib import gpu_int_kernels


def _prototype(ufunc: str) -> SimpleNamespace:
    """The member whose forward() is xp.<ufunc> over its inputs (one or two)."""

    def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
        if gpu_int_kernels.is_cupy(xp) and gpu_int_kernels.bitwise(ufunc, inputs, outputs[0]):
            return  # same-shape aligned tensors: one 16-byte-vector kernel
        outputs[0][...] = getattr(xp, ufunc)(*inputs)

    def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
        return getattr(torch, ufunc)(*inputs)  # torch's functions share NumPy's names

    return SimpleNamespace(forward=forward, torch_equivalent=torch_equivalent)


members = {key: _prototype(key) for key in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")}
