"""Antialiased Resize prototype (NumPy or CuPy): ai.onnx Resize with antialias = 1, linear or cubic.

Separable: each resized axis is one matrix product with a dense [out, in] weight matrix built on
the host in float64 (float32 on the device). Output index o samples the input at the source
coordinate x(o) of the coordinate_transformation_mode; the kernel (triangle or Keys cubic with
coefficient a) is evaluated at (i - x) * s with s = min(scale, 1), so a downscaled axis has its
support widened by 1 / scale, over a fixed window of n taps per axis; the weights are
renormalised to sum 1 (over the in-range taps only with exclude_outside); taps past the edge
read the edge pixel. uint8 images are resized in float32 and rounded half to even and clamped
once at the end (`to_output_type`). roi, scales and sizes arrive as attributes (the rewrite folds
the constant inputs); the output shape follows from them and X's shape (`output_shapes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.dims import ShapeOnly


@dataclass(frozen=True)
class AxisResize:
    axis: int
    in_len: int
    out_len: int
    scale: float
    roi: tuple[float, float] = (0.0, 1.0)

    def is_identity(self) -> bool:
        return math.isclose(self.scale, 1.0) and self.out_len == self.in_len and self.roi == (0.0, 1.0)


def plan_axes(shape: Sequence[int], attrs: Mapping[str, Any]) -> list[AxisResize]:
    """Scale and output length of every axis (1 and the input length where not resized)."""
    rank = len(shape)
    axes = [a % rank for a in attrs.get("axes") or []] or list(range(rank))
    scales, sizes, roi = list(attrs.get("scales") or []), list(attrs.get("sizes") or []), attrs.get("roi") or []
    if bool(scales) == bool(sizes):
        raise ValueError("Resize needs exactly one of scales and sizes")
    given = scales or sizes
    if len(given) != len(axes) or (roi and len(roi) != 2 * len(axes)):
        raise ValueError(f"scales or sizes need one value per resized axis ({len(axes)}), roi two")
    scale = [1.0] * rank
    out = list(shape)
    for i, a in enumerate(axes):
        scale[a] = float(np.float32(scales[i])) if scales else sizes[i] / shape[a] if shape[a] else 0.0
        out[a] = math.floor(scale[a] * shape[a]) if scales else int(sizes[i])
    policy = attrs.get("keep_aspect_ratio_policy", "stretch")
    if sizes and policy != "stretch":
        common = (min if policy == "not_larger" else max)(scale[a] for a in axes)
        for a in axes:
            scale[a], out[a] = common, int(common * shape[a] + 0.5)
    rois = {a: (float(roi[i]), float(roi[len(axes) + i])) for i, a in enumerate(axes)} if roi else {}
    return [AxisResize(a, shape[a], out[a], scale[a], rois.get(a, (0.0, 1.0))) for a in range(rank)]


FOLDED = ("roi", "scales", "sizes")  # inputs 1..3, which the rewrite folds into these fields


def with_folded(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The fields, taking roi/scales/sizes from inputs 1..3 where they are still given as tensors
    (an ONNX node's inputs) rather than folded (a plugin node's fields)."""
    fields = dict(attrs)
    for name, tensor in zip(FOLDED, inputs[1:4], strict=False):
        if tensor is not None and tensor.size:
            fields[name] = [v.item() for v in np.asarray(tensor.tolist()).ravel()]
    return fields


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    return [tuple(p.out_len for p in plan_axes(inputs[0].shape, with_folded(inputs, attrs)))]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions. floor(float32 scale * n) is exact in dimension operations only
    for whole scales and 1 / 2**k; other scales, and sizes with a keep_aspect_ratio_policy, need
    the resized axes' extents known at build time (ValueError otherwise)."""
    dims = list(inputs[0])
    known = [d.constant() for d in dims]
    if all(k is not None for k in known):
        return output_shapes([ShapeOnly(known)], attrs)
    rank = len(dims)
    axes = [a % rank for a in attrs.get("axes") or []] or list(range(rank))
    scales, sizes = list(attrs.get("scales") or []), list(attrs.get("sizes") or [])
    if bool(scales) == bool(sizes):
        raise ValueError("Resize needs exactly one of scales and sizes")
    if sizes and attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ValueError("keep_aspect_ratio_policy needs the resized axes' extents known at build time")
    for i, a in enumerate(axes):
        dims[a] = int(sizes[i]) if sizes else _scaled_dim(dims[a], float(np.float32(scales[i])))
    return [tuple(dims)]


def _scaled_dim(n: Any, scale: float) -> Any:
    if scale.is_integer():
        return n * int(scale)
    shrink = 1 / scale
    if shrink.is_integer() and int(shrink) & (int(shrink) - 1) == 0:  # 1 / 2**k: exact in binary
        return n // int(shrink)
    raise ValueError(f"scale {scale} on an axis of build-time-unknown extent has no exact dimension expression")


def source_coordinates(p: AxisResize, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """x(o) for every output index o, and where tf_crop_and_resize samples outside the input."""
    o = np.arange(p.out_len, dtype=np.float64)
    width = p.scale * p.in_len  # the real-valued output length the modes are defined on
    outside = np.zeros(p.out_len, dtype=bool)
    if mode == "half_pixel":
        x = (o + 0.5) / p.scale - 0.5
    elif mode == "half_pixel_symmetric":
        offset = p.in_len / 2 * (1 - p.out_len / width)
        x = offset + (o + 0.5) / p.scale - 0.5
    elif mode == "pytorch_half_pixel":
        x = np.full(p.out_len, -0.5) if width == 1 else (o + 0.5) / p.scale - 0.5
    elif mode == "align_corners":
        x = np.zeros(p.out_len) if width == 1 else o * (p.in_len - 1) / (width - 1)
    elif mode == "asymmetric":
        x = o / p.scale
    elif mode == "tf_crop_and_resize":
        start, end = p.roi
        span = (end - start) * (p.in_len - 1)
        x = np.full(p.out_len, span / 2) if width == 1 else o * span / (width - 1)
        x = x + start * (p.in_len - 1)
        outside = (x < 0) | (x > p.in_len - 1)
    else:
        raise ValueError(f"coordinate_transformation_mode {mode!r} is not supported")
    return x, outside


def taps(mode: str, scale: float) -> int:
    """Window length n: the kernel's support (1 linear, 2 cubic) widened by 1 / min(scale, 1)."""
    support = 1.0 if mode == "linear" else 2.0
    return 2 - 2 * (math.floor(-support / min(scale, 1.0)) + 1)


def kernel(mode: str, t: np.ndarray, a: float) -> np.ndarray:
    t = np.abs(t)
    if mode == "linear":
        return np.clip(1 - t, 0, 1)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def weight_matrix(p: AxisResize, attrs: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The [out, in] float64 matrix of one axis, and its extrapolated output rows."""
    mode = attrs["mode"]
    x, outside = source_coordinates(p, attrs.get("coordinate_transformation_mode", "half_pixel"))
    n = taps(mode, p.scale)
    first = np.ceil(x).astype(np.int64) - n // 2  # the n taps nearest x, ties to the lower index
    index = first[:, None] + np.arange(n)[None, :]
    w = kernel(mode, (index - x[:, None]) * min(p.scale, 1.0), float(attrs.get("cubic_coeff_a", -0.75)))
    if attrs.get("exclude_outside", 0):
        w = np.where((index < 0) | (index >= p.in_len), 0.0, w)
    total = w.sum(axis=1, keepdims=True)
    w = w / np.where(total == 0, 1.0, total)
    matrix = np.zeros((p.out_len, p.in_len))
    rows = np.repeat(np.arange(p.out_len), n)
    np.add.at(matrix, (rows, np.clip(index, 0, p.in_len - 1).ravel()), w.ravel())
    return matrix, outside


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, y = inputs[0], outputs[0]
    attrs = with_folded(inputs, attrs)
    result = x.astype("float32")
    for p in plan_axes(x.shape, attrs):
        if p.is_identity():
            continue
        if result.size == 0:  # nothing to weight; the axis still takes its new length
            result = xp.zeros((*result.shape[: p.axis], p.out_len, *result.shape[p.axis + 1 :]), "float32")
            continue
        matrix, outside = weight_matrix(p, attrs)
        moved = xp.moveaxis(result, p.axis, -1)
        result = xp.moveaxis(moved @ xp.asarray(matrix.T, dtype="float32"), -1, p.axis)
        if outside.any():
            where = xp.asarray(outside).reshape((-1,) + (1,) * (result.ndim - p.axis - 1))
            result = xp.where(where, xp.float32(attrs.get("extrapolation_value", 0.0)), result)
    y[...] = to_output_type(xp, result, y.dtype)


def to_output_type(xp: ModuleType, result: Any, dtype: Any) -> Any:
    """result (float32) in Y's type: an integer type (uint8 images) rounds half to even and clamps
    to its range once, after every pass, as onnx.reference does (a cubic overshoot clamps here)."""
    if np.dtype(dtype).kind not in "iu":
        return result.astype(dtype)
    info = np.iinfo(dtype)
    return xp.clip(xp.rint(result), info.min, info.max).astype(dtype)


# torchvision-style preprocessing: images of 3 x 1024 x 1024 down to 224 x 224, bilinear, in the
# ONNX attributes of torch's antialias=True (in-range taps only; its bicubic uses a = -0.5).
BENCH_ATTRS = {
    "antialias": 1,
    "mode": "linear",
    "axes": [2, 3],
    "sizes": [224, 224],
    "coordinate_transformation_mode": "pytorch_half_pixel",
    "exclude_outside": 1,
    "cubic_coeff_a": -0.5,
}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return dict(BENCH_ATTRS)


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Batches of 3 x 1024 x 1024 images sized to the request (at least one)."""
    return {"X": (max(1, nbytes // itemsize // (3 * 1024 * 1024)), 3, 1024, 1024)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """F.interpolate(antialias=True) of the same sizes (bilinear or bicubic, half-pixel centres).
    uint8 images as torchvision resizes them on CUDA, where F.interpolate takes no uint8: in float32,
    then rounded and clamped to 0..255."""
    mode = "bilinear" if attrs["mode"] == "linear" else "bicubic"
    size = output_shapes(inputs, attrs)[0][2:]
    x = inputs[0]
    image = x if x.is_floating_point() else x.float()
    y = torch.nn.functional.interpolate(image, size=size, mode=mode, antialias=True, align_corners=False)
    return y if x.is_floating_point() else y.round_().clamp_(0, 255).to(x.dtype)
