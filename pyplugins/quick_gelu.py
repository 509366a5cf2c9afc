"""QuickGelu prototype: Y = X * sigmoid(alpha X)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.activations import bias_activation, quick_gelu


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    bias_activation(xp, inputs, outputs, quick_gelu(float(attrs["alpha"])))


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    x = inputs[0]
    return x * torch.sigmoid(float(attrs["alpha"]) * x)


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.quick_gelu(inputs[0], outputs[0], float(attrs["alpha"]), stream)
