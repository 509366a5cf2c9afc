"""MaxPool with Indices prototype: window maxima and their flat positions in X, the first maximum in
window order winning ties; storage_order 1 numbers the spatial axes column-major."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any


def geometry(in_spatial: Sequence[int], attrs: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """(output spatial dims, leading pads) per ONNX MaxPool: auto_pad, ceil_mode, dilations."""
    kernel = list(attrs["kernel_shape"])
    n = len(kernel)
    strides = list(attrs["strides"] or [1] * n)
    dilations = list(attrs["dilations"] or [1] * n)
    pads = list(attrs["pads"] or [0] * 2 * n)
    auto_pad = attrs["auto_pad"]
    out, begin = [], []
    for d in range(n):
        extent = (kernel[d] - 1) * dilations[d] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-in_spatial[d] // strides[d])
            total = max((o - 1) * strides[d] + extent - in_spatial[d], 0)
            b = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        elif auto_pad == "VALID":
            o, b = -(-(in_spatial[d] - extent + 1) // strides[d]), 0
        else:
            span = in_spatial[d] + pads[d] + pads[n + d] - extent
            b = pads[d]
            if attrs["ceil_mode"]:
                o = -(-span // strides[d]) + 1
                o -= 1 if (o - 1) * strides[d] >= in_spatial[d] + b else 0
            else:
                o = span // strides[d] + 1
        out.append(o)
        begin.append(b)
    return out, begin


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = inputs[0]
    y, indices = outputs
    spatial = list(x.shape[2:])
    out, begin = geometry(spatial, attrs)
    kernel = list(attrs["kernel_shape"])
    strides = list(attrs["strides"] or [1] * len(kernel))
    dilations = list(attrs["dilations"] or [1] * len(kernel))
    best = xp.full(y.shape, -xp.inf, dtype=xp.float32)
    best_index = xp.full(y.shape, -1, dtype=xp.int64)
    positions = [xp.arange(o) for o in out]
    column_major = attrs["storage_order"] == 1
    for offsets in itertools.product(*(range(k) for k in kernel)):  # window order: first max wins
        coords = [
            p * s - b + off * dl for p, s, b, off, dl in zip(positions, strides, begin, offsets, dilations, strict=True)
        ]
        mesh = xp.meshgrid(*coords, indexing="ij")
        inside = xp.ones(mesh[0].shape, dtype=bool)
        for c, n in zip(mesh, spatial, strict=True):
            inside &= (c >= 0) & (c < n)
        clipped = [xp.clip(c, 0, n - 1) for c, n in zip(mesh, spatial, strict=True)]
        values = xp.where(inside, x[(Ellipsis, *clipped)].astype(xp.float32), -xp.inf)
        order = range(len(spatial)) if column_major else reversed(range(len(spatial)))
        flat, step = 0, 1
        for d in order:
            flat, step = flat + clipped[d] * step, step * spatial[d]
        better = values > best
        best = xp.where(better, values, best)
        best_index = xp.where(better, flat, best_index)
    planes = xp.arange(math.prod(x.shape[:2]), dtype=xp.int64).reshape(x.shape[:2] + (1,) * len(spatial))
    y[...] = best.astype(y.dtype)
    indices[...] = best_index + planes * math.prod(spatial)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """Y and Indices: the pooled shape (model-level parity allocates outputs with this)."""
    x = inputs[0]
    out, _ = geometry(list(x.shape[2:]), attrs)
    shape = (*x.shape[:2], *out)
    return [shape, shape]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions: geometry()'s output extents in dimension operations."""
    x = list(inputs[0])
    pooled = [_pooled_dim(x[2 + d], d, attrs) for d in range(len(attrs["kernel_shape"]))]
    shape = (*x[:2], *pooled)
    return [shape, shape]


def _pooled_dim(extent_in: Any, d: int, attrs: Mapping[str, Any]) -> Any:
    n = len(attrs["kernel_shape"])
    stride = (attrs["strides"] or [1] * n)[d]
    pads = attrs["pads"] or [0] * 2 * n
    extent = (attrs["kernel_shape"][d] - 1) * (attrs["dilations"] or [1] * n)[d] + 1
    if attrs["auto_pad"] in ("SAME_UPPER", "SAME_LOWER"):
        return extent_in.ceil_div(stride)
    if attrs["auto_pad"] == "VALID":
        return (extent_in + 1 - extent).ceil_div(stride)
    span = extent_in + (pads[d] + pads[n + d]) - extent
    if not attrs["ceil_mode"]:
        return span // stride + 1
    pooled = span.ceil_div(stride) + 1
    # geometry(): the last window is dropped when it would start past the input and leading pad.
    return pooled - 1 + ((pooled - 1) * stride).less(extent_in + pads[d])


BENCH_PLANE = (64, 256, 256)  # channels, height, width per image; 2 x 2 windows, stride 2


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """2 x 2 / 2 pooling of 64 x 256 x 256 images, batch sized to ~nbytes of X."""
    return {"X": (max(1, nbytes // itemsize // math.prod(BENCH_PLANE)), *BENCH_PLANE)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"kernel_shape": [2, 2], "strides": [2, 2]}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """F.max_pool2d (kernel = stride, no padding); its indices count within each plane, ONNX's
    across the tensor, so each plane's offset is added."""
    x = inputs[0]
    y, local = torch.nn.functional.max_pool2d(x, attrs["kernel_shape"], attrs["strides"], return_indices=True)
    planes = torch.arange(x.shape[0] * x.shape[1], device=x.device).reshape(*x.shape[:2], 1, 1)
    return y, local + planes * (x.shape[2] * x.shape[3])
