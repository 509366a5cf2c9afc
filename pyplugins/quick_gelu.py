"""QuickGelu prototype: Y = X * sigmoid(alpha X)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.prototypes import bias_activation, quick_gelu


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    bias_activation(xp, inputs, outputs, quick_gelu(float(attrs["alpha"])))


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.quick_gelu(inputs[0], outputs[0], float(attrs["alpha"]), stream)
