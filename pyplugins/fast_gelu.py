"""FastGelu prototype: Y = 0.5 V (1 + tanh(sqrt(2/pi) (V + 0.044715 V^3))), V = X + bias."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.activations import bias_activation, gelu_tanh


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    bias_activation(xp, inputs, outputs, gelu_tanh)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """What a torch user writes for FastGelu: F.gelu(x + bias, approximate="tanh")."""
    x = inputs[0] if len(inputs) < 2 or inputs[1] is None else inputs[0] + inputs[1]
    return torch.nn.functional.gelu(x, approximate="tanh")


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    bias = inputs[1] if len(inputs) > 1 else None
    ext.fast_gelu(inputs[0], outputs[0], bias, stream)
