"""SkipSimplifiedLayerNormalization prototype: S = input + skip (+ bias); output = S / RMS(S) * gamma;
optional outputs mean (0), inv_std_var, input_skip_bias_sum (trtplug/protolib/norm.py, shared
with SkipLayerNormalization)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.norm import skip_norm_forward


def _named(inputs: Sequence[Any]) -> tuple[Any, Any, Any, None, Any | None]:
    padded = [*inputs, None][:4]
    return padded[0], padded[1], padded[2], None, padded[3]  # input, skip, gamma, (no beta), bias


takes_bf16 = True  # bf16 arrives as Bf16Device on a GPU: the fast path reads and rounds it


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    skip_norm_forward(xp, _named(inputs), outputs, attrs["epsilon"], rms=True)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    x, skip, gamma, _, bias = _named(inputs)
    s = x + skip if bias is None else x + skip + bias
    return torch.nn.functional.rms_norm(s, gamma.shape, gamma, float(attrs["epsilon"]))
