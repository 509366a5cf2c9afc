"""Helpers for a prototype's `output_dims(inputs, attrs, builder)` hook, which gives the TensorRT
plugin (trtplug.protoplugin) its output shapes when the spec's rule is "dynamic:...". The hook's
inputs are, in spec.plugin_inputs order, a tensor's dims, a shape input's values, or None when
absent; each dim is a trtplug.protoplugin.shapes.SymDim (+, -, *, // with dims and ints,
ceil_div, maximum, minimum, less, constant()), symbolic at build time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


class ShapeOnly:
    """An input of which the hook knows only the shape: enough for an output_shapes that reads
    `.shape` and `.ndim` and computes with + - * // (not int(), max(), comparisons)."""

    def __init__(self, dims: Sequence[Any]) -> None:
        self.shape = tuple(dims)
        self.ndim = len(self.shape)


OutputShapes = Callable[[Sequence[Any], Mapping[str, Any]], list]


def shape_only_hook(output_shapes: OutputShapes) -> Callable[..., list]:
    """An output_dims hook that runs `output_shapes` on the inputs' dims (ShapeOnly)."""

    def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list:
        return [tuple(s) for s in output_shapes([None if d is None else ShapeOnly(d) for d in inputs], attrs)]

    output_dims.__doc__ = f"{output_shapes.__name__} on the inputs' dims (symbolic in the TensorRT plugin)."
    return output_dims
