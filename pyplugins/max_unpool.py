"""MaxUnpool prototype: X scattered to flat positions I of a zero tensor of the inferred shape
((in - 1) * stride - pads + kernel per spatial axis), placed at the start of the output (which
`output_shape` may make larger)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any


def inferred_shape(x_shape: Sequence[int], attrs: Mapping[str, Any]) -> tuple[int, ...]:
    kernel = list(attrs["kernel_shape"])
    n = len(kernel)
    strides = list(attrs["strides"] or [1] * n)
    pads = list(attrs["pads"] or [0] * 2 * n)
    spatial = [(x_shape[2 + d] - 1) * strides[d] - pads[d] - pads[n + d] + kernel[d] for d in range(n)]
    return (*x_shape[:2], *spatial)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, indices, y = inputs[0], inputs[1], outputs[0]
    shape = inferred_shape(x.shape, attrs)
    unpooled = xp.zeros(math.prod(shape), dtype=y.dtype)
    unpooled[indices.ravel()] = x.ravel().astype(y.dtype)
    y[...] = 0
    y[tuple(slice(0, n) for n in shape)] = unpooled.reshape(shape)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """output_shape's values when given, else the shape MaxUnpool infers from X and the attributes."""
    if len(inputs) > 2 and inputs[2] is not None:
        return [tuple(int(v) for v in inputs[2].ravel())]
    return [inferred_shape(inputs[0].shape, attrs)]
