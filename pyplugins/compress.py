"""Compress prototype: the slices along `axis` (the flattened input when absent) whose condition
entry is true; condition entries past the axis length are ignored, as the plugin does.

The output's extent is data-dependent: `output_shapes` computes it from the condition's values,
and the plugin reports it in its size tensor (`size_tensor_values`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.axes import AXIS_ABSENT as FLATTENED  # the spec's axis default: no axis on the node


def _axis(x: Any, attrs: Mapping[str, Any]) -> int | None:
    axis = attrs["axis"]
    return None if axis == FLATTENED else axis % max(x.ndim, 1)


def _selected(xp: ModuleType, x: Any, condition: Any, axis: int | None) -> Any:
    length = x.size if axis is None else x.shape[axis]
    return xp.nonzero(condition.ravel()[:length])[0]


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, condition = inputs[0], inputs[1]
    axis = _axis(x, attrs)
    chosen = _selected(xp, x, condition, axis)
    outputs[0][...] = xp.take(x.ravel() if axis is None else x, chosen, axis=0 if axis is None else axis)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    x, condition = inputs[0], inputs[1]
    axis = _axis(x, attrs)
    count = int((condition.ravel()[: x.size if axis is None else x.shape[axis]] != 0).sum())
    if axis is None:
        return [(count,)]
    return [tuple(count if d == axis else n for d, n in enumerate(x.shape))]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions: the selected count is size tensor 0, at most the axis length."""
    x = list(inputs[0])
    if attrs["axis"] == FLATTENED:
        return [(builder.size_tensor(0, math.prod(x)),)]
    axis = attrs["axis"] % max(len(x), 1)
    x[axis] = builder.size_tensor(0, x[axis])
    return [tuple(x)]


def size_tensor_values(outputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[int]:
    """The selected count: the output's extent along the axis (its length when flattened)."""
    y = outputs[0]
    axis = attrs["axis"]
    return [y.shape[0] if axis == FLATTENED else y.shape[axis % y.ndim]]


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Rows of 256 elements selected along axis 0 (a boolean-mask row filter)."""
    rows = max(1, nbytes // itemsize // 256)
    return {"input": (rows, 256), "condition": (rows,)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"axis": 0}  # the condition selects rows


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """A condition selecting exactly half the rows, at random places (so bench_bytes is exact)."""
    rows = shapes["condition"][0]
    condition = np.zeros(rows, dtype=bool)
    condition[rng.permutation(rows)[: rows // 2]] = True
    return {"condition": condition}


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Traffic floor: the condition read, the selected half of the rows read and written (rows not
    selected need not be read: torch's mask indexing reads only the rows nonzero() names)."""
    rows, width = shapes["input"]
    return rows + 2 * (rows // 2) * width * itemsize


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Boolean-mask selection (torch synchronizes to size its output; the plugin writes a size tensor)."""
    x, condition = inputs[0], inputs[1].reshape(-1).bool()
    axis = _axis(x, attrs)
    if axis is None:
        return x.reshape(-1)[: condition.numel()][condition[: x.numel()]]
    keep = condition[: x.shape[axis]]
    return x.narrow(axis, 0, keep.numel()).movedim(axis, 0)[keep].movedim(0, axis)
