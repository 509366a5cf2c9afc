"""Gelu (com.microsoft) prototype: Y = 0.5 X (1 + erf(X / sqrt 2))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.activations import bias_activation, gelu_erf


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    bias_activation(xp, inputs, outputs, gelu_erf)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    return torch.nn.functional.gelu(inputs[0])
