"""BitwiseOr prototype: C = A | B with NumPy broadcasting (integer types)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    outputs[0][...] = xp.bitwise_or(inputs[0], inputs[1])


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.bitwise_or(inputs[0], inputs[1], outputs[0], stream)
