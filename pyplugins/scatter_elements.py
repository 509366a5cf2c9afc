"""ScatterElements prototype: out = data, then updates applied at their elements with the axis
coordinate replaced by the index, under reduction none/add/mul/max/min (duplicates accumulate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

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
