"""ScatterND prototype: out = data, then slices updates[j] applied at out[indices[j]] under
reduction none/add/mul/max/min (duplicate tuples accumulate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

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
