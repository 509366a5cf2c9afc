"""BiasSplitGelu prototype: V = X + bias; Y = V[..., :D/2] * gelu(V[..., D/2:]) (exact GELU)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib import gpu_kernels
from trtplug.protolib.activations import gelu_erf
from trtplug.protolib.dtypes import on_float32_stand_ins
from trtplug.protolib.gpu_source import has_bf16

takes_bf16 = True  # bf16 arrives as Bf16Device on a GPU: the fast path reads and rounds it


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    if gpu_kernels.is_cupy(xp) and gpu_kernels.bias_split_gelu(xp, inputs[0], inputs[1], outputs[0]):
        return
    if has_bf16([*inputs[:2], outputs[0]]):
        on_float32_stand_ins(xp, list(inputs[:2]), list(outputs[:1]), lambda i, o: forward(xp, i, o, attrs))
        return
    v = inputs[0].astype(xp.float32) + inputs[1].astype(xp.float32)
    half = v.shape[-1] // 2
    outputs[0][...] = (v[..., :half] * gelu_erf(xp, v[..., half:])).astype(outputs[0].dtype)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    left, right = (inputs[0] + inputs[1]).chunk(2, dim=-1)
    return left * torch.nn.functional.gelu(right)
