"""Inverse prototype (com.microsoft Inverse): inverses of a batch of square matrices, in float32."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import torch_in_float32


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = inputs[0].astype(xp.float32)
    if x.size:
        outputs[0][...] = xp.linalg.inv(x).astype(outputs[0].dtype)


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """A batch of 4x4 matrices (the common small-matrix case: poses, homographies) of ~nbytes."""
    return {"X": (max(1, nbytes // itemsize // 16), 4, 4)}


TORCH_NOTE = "torch in fp32, cast back: torch.linalg.inv has no fp16/bf16"  # shown on the bench's torch rows


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    return torch_in_float32(torch.linalg.inv, inputs[0])
