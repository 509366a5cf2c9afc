"""Scatter with the ONNX reductions, shared by the ScatterND and ScatterElements prototypes,
written once for NumPy and CuPy alike."""

from __future__ import annotations

from types import ModuleType
from typing import Any

# ONNX scatter reductions -> ufunc names.
REDUCTION_UFUNCS = {"add": "add", "mul": "multiply", "max": "maximum", "min": "minimum"}


def scatter_into(xp: ModuleType, reduction: str, out: Any, target: tuple[Any, ...], values: Any) -> None:
    """out[target] = values ("none"), or (reduction)= with duplicates accumulating (ufunc.at). CuPy
    lacks some (multiply, and every fp16 one): those run on the host, exactly as NumPy does them."""
    if reduction == "none":
        out[target] = values
        return
    ufunc_name = REDUCTION_UFUNCS[reduction]
    try:
        getattr(xp, ufunc_name).at(out, target, values)
        return
    except (NotImplementedError, TypeError):
        if xp.__name__ == "numpy":
            raise
    import numpy as np

    host = xp.asnumpy(out)
    getattr(np, ufunc_name).at(host, tuple(xp.asnumpy(t) for t in target), xp.asnumpy(values))
    out[...] = xp.asarray(host)
