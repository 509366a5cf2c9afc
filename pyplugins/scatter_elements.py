"""ScatterElements prototype: out = data, then updates applied at their elements with the axis
coordinate replaced by the index, under reduction none/add/mul/max/min (duplicates accumulate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.scatter import scatter_into


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    data, indices, updates = inputs
    out = outputs[0]
    out[...] = data
    axis = attrs["axis"] % data.ndim
    ones = [1] * updates.ndim
    coords = [xp.arange(n).reshape([*ones[:d], n, *ones[d + 1 :]]) for d, n in enumerate(updates.shape)]
    coords[axis] = xp.where(indices < 0, indices + data.shape[axis], indices)
    target = tuple(xp.broadcast_to(c, updates.shape) for c in coords)
    scatter_into(xp, attrs["reduction"], out, target, updates)


BENCH_WIDTH, BENCH_UPDATES = 1024, 256  # rows of 1024, 256 distinct positions updated per row
TORCH_REDUCE = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Along axis 1: a quarter of each 1024-wide row of data updated, ~nbytes of data.
    Timed out of place, as TensorRT 10 runs the plugin: the copy of data to the output is part of
    the traffic floor (in place, only the updates and the touched elements would be)."""
    rows = max(1, nbytes // itemsize // BENCH_WIDTH)
    return {"data": (rows, BENCH_WIDTH), "indices": (rows, BENCH_UPDATES), "updates": (rows, BENCH_UPDATES)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"axis": 1}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Distinct positions per row (every 4th column, jittered): reduction none is then deterministic."""
    rows, count = shapes["indices"]
    stride = BENCH_WIDTH // count
    return {"indices": stride * np.arange(count, dtype=np.int64) + rng.integers(0, stride, (rows, count))}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    data, indices, updates = inputs
    axis, reduction = attrs["axis"], attrs["reduction"]
    if reduction == "none":
        return data.scatter(axis, indices, updates)
    return data.scatter_reduce(axis, indices, updates, TORCH_REDUCE[reduction], include_self=True)
