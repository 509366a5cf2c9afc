"""BitwiseNot prototype: Y = ~X (integer types)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    outputs[0][...] = xp.bitwise_not(inputs[0])


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.bitwise_not(inputs[0], outputs[0], stream)
