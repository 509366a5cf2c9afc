"""CenterCropPad prototype: centred crop or zero pad of each axis to the output's length.

Offsets per axis: crop start (in - out) // 2, pad start (out - in) // 2. The output shape comes
from the values of `shape` (a shape input for the plugin), so the caller allocates it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, y = inputs[0], outputs[0]
    src, dst = [], []
    for n_in, n_out in zip(x.shape, y.shape, strict=True):
        keep = min(n_in, n_out)
        crop, pad = max(n_in - n_out, 0) // 2, max(n_out - n_in, 0) // 2
        src.append(slice(crop, crop + keep))
        dst.append(slice(pad, pad + keep))
    y[...] = 0
    y[tuple(dst)] = x[tuple(src)]


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """input_data's shape with the `axes` (default: all) set to the values of `shape`."""
    shape = list(inputs[0].shape)
    rank = len(shape)
    axes = list(attrs["axes"] or range(rank))
    for axis, n in zip(axes, inputs[1].ravel(), strict=True):
        shape[axis % rank] = int(n)
    return [tuple(shape)]
