"""BiasAdd prototype: Y = X + bias + skip (bias along the last axis, skip X's shape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.activations import bias_activation, identity

takes_bf16 = True  # bf16 arrives as Bf16Device on a GPU: the fast path reads and rounds it


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    bias_activation(xp, inputs, outputs, identity)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    return inputs[0] + inputs[1] + inputs[2]
