"""Unique prototype (NumPy or CuPy): the CUDA launcher's algorithm, not np.unique.

X is viewed as rows (the flattened elements, or the slices along `axis` with their elements in C
order); a stable lexicographic sort of the row ids, head flags where a sorted row differs from
the one before, group ids by a cumulative sum; each group's first sorted id is its first
occurrence (the sort is stable). sorted = 0 ranks the groups by first occurrence. Floats compare
as NumPy's unique does (NaNs one value, last; -0.0 == 0.0), as the launcher does. The unique
count is data-dependent: output_shapes() computes it from X's values, size_tensor_values() reads
it off exact outputs, and native() checks the launcher's device count against it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.axes import AXIS_ABSENT as FLATTEN  # the spec's default axis: Unique over the flattened tensor


def _axis(x: Any, attrs: Mapping[str, Any]) -> int | None:
    axis = int(attrs["axis"])
    if axis == FLATTEN:
        return None
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"Unique: axis {axis} out of range for X of rank {x.ndim}")
    return axis % x.ndim


def _rows(xp: ModuleType, x: Any, axis: int | None) -> Any:
    """(rows, row length) view: the compared units, each a row of keys (fp16 widened exactly)."""
    if axis is None:
        rows = x.reshape(-1, 1)
    else:
        n = x.shape[axis]
        rows = xp.moveaxis(x, axis, 0).reshape(n, x.size // n if n else 0)
    return rows.astype(xp.float32) if rows.dtype == xp.float16 else rows


def _differ(xp: ModuleType, a: Any, b: Any) -> Any:
    """Elementwise a != b with NumPy unique's float rules: NaN equals NaN (lexsort puts NaNs last,
    so they are neighbours), -0.0 equals 0.0."""
    if a.dtype.kind != "f":
        return a != b
    return (a != b) & ~(xp.isnan(a) & xp.isnan(b))


def _groups(xp: ModuleType, x: Any, axis: int | None) -> tuple[Any, Any, Any]:
    """Sorted row ids, 0-based group of each sorted position, and the sorted positions of the heads."""
    rows = _rows(xp, x, axis)
    n = rows.shape[0]
    # lexsort is stable; the last key is the primary one, so the row's columns go in reversed.
    order = xp.arange(n) if n == 0 or rows.shape[1] == 0 else xp.lexsort(rows.T[::-1])
    ranked = rows[order]
    head = xp.ones(n, dtype=bool)
    if n > 1:
        head[1:] = xp.any(_differ(xp, ranked[1:], ranked[:-1]), axis=1) if rows.shape[1] else False
    group = xp.cumsum(head) - 1
    return order, group, xp.nonzero(head)[0]


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = inputs[0]
    y, indices, inverse, counts = outputs
    axis = _axis(x, attrs)
    order, group, heads = _groups(xp, x, axis)
    first = order[heads]
    sizes = xp.diff(xp.concatenate([heads, xp.asarray([order.size], dtype=heads.dtype)]))
    slot = xp.arange(first.size)
    if not attrs["sorted"]:
        slot = xp.empty_like(slot)
        slot[xp.argsort(first)] = xp.arange(first.size)  # rank by first occurrence
    indices[slot] = first
    counts[slot] = sizes
    if order.size:
        inverse[order] = slot[group]
    y[...] = xp.take(x.reshape(-1) if axis is None else x, indices, axis=0 if axis is None else axis)


def _unique_count(x: Any, attrs: Mapping[str, Any]) -> int:
    import numpy as np

    xp = np if isinstance(x, np.ndarray) else __import__("cupy")
    _, _, heads = _groups(xp, x, _axis(x, attrs))
    return int(heads.size)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """Y, indices, inverse_indices, counts for X's values."""
    x = inputs[0]
    axis = _axis(x, attrs)
    count = _unique_count(x, attrs)
    if axis is None:
        return [(count,), (count,), (x.size,), (count,)]
    y = list(x.shape)
    y[axis] = count
    return [tuple(y), (count,), (x.shape[axis],), (count,)]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions: the unique count is size tensor 0, at most the row count."""
    x = list(inputs[0])
    axis = int(attrs["axis"])
    if axis == FLATTEN:
        rows = math.prod(x)
        count = builder.size_tensor(0, rows)
        return [(count,), (count,), (rows,), (count,)]
    if not -len(x) <= axis < len(x):
        raise ValueError(f"Unique: axis {axis} out of range for X of rank {len(x)}")
    rows = x[axis % len(x)]
    count = builder.size_tensor(0, rows)
    x[axis % len(x)] = count
    return [tuple(x), (count,), (rows,), (count,)]


def size_tensor_values(outputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[int]:
    """The unique count: the length of `indices`."""
    return [int(outputs[1].shape[0])]


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Unique of the flattened X of ~nbytes (random values: outputs are about X's size)."""
    return {"X": (max(1, nbytes // itemsize),)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """torch.unique (sorted; it has no first-occurrence order, nor the first-occurrence indices,
    which are left out: the bench compares the outputs torch gives, Y first)."""
    x, axis = inputs[0], _axis(inputs[0], attrs)
    flat = x.reshape(-1) if axis is None else x
    y, _inverse, _counts = torch.unique(flat, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    return (y,)
