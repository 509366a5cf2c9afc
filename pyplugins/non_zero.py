"""NonZero prototype: the coordinates of the non-zero elements, int64 [rank, N] in row-major order
(numpy.nonzero stacked); a 0-D input gives [0, N], as ONNX's shape inference and onnx.reference do.

N is data-dependent: `output_shapes` counts it from the input's values, and the plugin reports it in
its size tensor (`size_tensor_values`). NaN is non-zero and -0.0 is zero, as `x != 0` says."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = inputs[0]
    if x.ndim:  # a 0-D input's [0, N] holds nothing
        outputs[0][...] = xp.stack(xp.nonzero(x))


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    x = inputs[0]
    return [(x.ndim, int((x != 0).sum()))]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions: N is size tensor 0, at most every element."""
    x = list(inputs[0])
    return [(len(x), builder.size_tensor(0, math.prod(x)))]


def size_tensor_values(outputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[int]:
    """The non-zero count: Y's second extent."""
    return [outputs[0].shape[1]]


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """A [rows, 256] mask-like input (a detection score map after a threshold), sized so that X and
    Y together hold about `nbytes`: half the elements non-zero, two int64 coordinates each, is 8
    bytes of Y an element (sized by X alone, a 1 GB bool X needs 8 GB of Y)."""
    return {"X": (max(1, nbytes // (itemsize + 8) // 256), 256)}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Exactly half the elements non-zero, at random places (so bench_bytes is exact)."""
    size = math.prod(shapes["X"])
    x = np.zeros(size, dtype=np.float32)
    x[rng.permutation(size)[: size // 2]] = 1.0
    return {"X": x.reshape(shapes["X"])}


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Traffic floor: X read once, the half selected written as two int64 coordinates each."""
    size = math.prod(shapes["X"])
    return size * itemsize + (size // 2) * len(shapes["X"]) * 8


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """torch.nonzero (it synchronizes to size its output; the plugin writes a size tensor)."""
    return torch.nonzero(inputs[0]).T
