"""MaxUnpool prototype: X scattered to flat positions I of a zero tensor of the inferred shape
((in - 1) * stride - pads + kernel per spatial axis), placed at the start of the output (which
`output_shape` may make larger)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np


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


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions; output_shape is a shape input: its values when present."""
    if len(inputs) > 2 and inputs[2] is not None:
        return [tuple(inputs[2])]
    return [inferred_shape(inputs[0], attrs)]


BENCH_POOLED = (64, 128, 128)  # channels and pooled height, width per image; 2 x 2 windows, stride 2


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """2 x 2 / 2 unpooling to 64 x 256 x 256 images, batch sized to ~nbytes of Y."""
    batch = max(1, nbytes // itemsize // (4 * math.prod(BENCH_POOLED)))
    return {"X": (batch, *BENCH_POOLED), "I": (batch, *BENCH_POOLED)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"kernel_shape": [2, 2], "strides": [2, 2]}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Indices as a 2 x 2 / 2 MaxPool gives them: one position per window, counted across the tensor."""
    n, c, h, w = shapes["X"]
    rows = 2 * np.arange(h).reshape(h, 1) + rng.integers(0, 2, (n, c, h, w))
    cols = 2 * np.arange(w) + rng.integers(0, 2, (n, c, h, w))
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (4 * h * w)
    return {"I": planes + rows * (2 * w) + cols}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """F.max_unpool2d; its indices count within each plane (ONNX's across the tensor), so the
    plane offsets are taken off first."""
    x, indices = inputs[0], inputs[1]
    shape = inferred_shape(x.shape, attrs)
    local = indices % (shape[2] * shape[3])
    return torch.nn.functional.max_unpool2d(x, local, attrs["kernel_shape"], attrs["strides"], output_size=shape[2:])
