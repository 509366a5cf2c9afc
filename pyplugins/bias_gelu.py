"""BiasGelu prototype: C = 0.5 V (1 + erf(V / sqrt 2)), V = A + B (B along the last axis)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.activations import bias_activation, gelu_erf


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    bias_activation(xp, inputs, outputs, gelu_erf)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    return torch.nn.functional.gelu(inputs[0] + inputs[1])


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.bias_gelu(inputs[0], outputs[0], inputs[1], stream)
