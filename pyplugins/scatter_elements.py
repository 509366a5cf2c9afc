"""ScatterElements prototype: out = data, then updates applied at their elements with the axis
coordinate replaced by the index, under reduction none/add/mul/max/min (duplicates accumulate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

UFUNCS = {"add": "add", "mul": "multiply", "max": "maximum", "min": "minimum"}


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    data, indices, updates = inputs
    out = outputs[0]
    out[...] = data
    axis = attrs.get("axis", 0) % data.ndim
    index = xp.where(indices < 0, indices + data.shape[axis], indices)
    coords = list(xp.indices(updates.shape, sparse=True))
    coords[axis] = index
    target = tuple(xp.broadcast_to(c, updates.shape) for c in coords)
    reduction = attrs.get("reduction", "none")
    if reduction == "none":
        out[target] = updates
    else:
        getattr(xp, UFUNCS[reduction]).at(out, target, updates)


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.scatter_elements(*inputs, outputs[0], int(attrs.get("axis", 0)), attrs.get("reduction", "none"), stream)
