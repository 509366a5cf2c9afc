"""ScatterND prototype: out = data, then slices updates[j] applied at out[indices[j]] under
reduction none/add/mul/max/min (duplicate tuples accumulate)."""

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
    k = indices.shape[-1]
    dims = xp.asarray(data.shape[:k], dtype=xp.int64)
    tuples = indices.reshape(-1, k)
    tuples = xp.where(tuples < 0, tuples + dims, tuples)
    target = tuple(tuples[:, t] for t in range(k))
    values = updates.reshape(tuples.shape[0], *data.shape[k:])
    scatter_into(xp, attrs["reduction"], out, target, values)


BENCH_WIDTH, BENCH_FRACTION = 256, 16  # a table of rows of 256; one row in 16 replaced


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Whole-row updates (indices of one coordinate) of a ~nbytes table of rows of 256.
    Timed out of place, as TensorRT 10 runs the plugin: the copy of data to the output is part of
    the traffic floor (in place, only the updates and the touched elements would be)."""
    rows = max(1, nbytes // itemsize // BENCH_WIDTH)
    touched = max(1, rows // BENCH_FRACTION)
    return {"data": (rows, BENCH_WIDTH), "indices": (touched, 1), "updates": (touched, BENCH_WIDTH)}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Distinct rows: reduction none is then deterministic."""
    rows, touched = shapes["data"][0], shapes["indices"][0]
    return {"indices": rng.permutation(rows)[:touched].astype(np.int64).reshape(touched, 1)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """index_put on a copy (reductions none and add: torch's index_put has no mul/max/min)."""
    data, indices, updates = inputs
    if attrs["reduction"] not in ("none", "add"):
        raise NotImplementedError(f"torch index_put has no reduction {attrs['reduction']!r}")
    where = tuple(indices[..., d] for d in range(indices.shape[-1]))
    return data.clone().index_put_(where, updates, accumulate=attrs["reduction"] == "add")
