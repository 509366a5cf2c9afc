"""Det prototype: determinants of a batch of square matrices (..., M, M) -> (...), in float32."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import torch_in_float32


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = inputs[0].astype(xp.float32)
    if x.shape[-1] == 0:
        outputs[0][...] = 1  # the empty product
        return
    outputs[0][...] = xp.linalg.det(x).astype(outputs[0].dtype) if x.size else 0


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """A batch of 4x4 matrices (the common small-matrix case: poses, homographies) of ~nbytes."""
    return {"X": (max(1, nbytes // itemsize // 16), 4, 4)}


TORCH_NOTE = "torch in fp32, cast back: torch.linalg.det has no fp16/bf16"  # shown on the bench's torch rows


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    return torch_in_float32(torch.linalg.det, inputs[0])
