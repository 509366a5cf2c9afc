"""RoI Align (ai.onnx RoiAlign, mmcv MMCVRoiAlign) in float32, one region at a time.

Each output bin (ph, pw) of region k averages (or maxes) a grid of bilinear samples: the region
starts at box * spatial_scale - offset (offset 0.5 for ONNX half_pixel / mmcv aligned), is at
least 1 x 1 when not offset, and a bin holds sampling_ratio^2 samples (0: ceil(region / bins)
per axis). A sample beyond [-1, H] x [-1, W] reads 0; others are clamped to the image.
Pooling "avg" divides by the sample count (at least 1); "max" takes the largest bilinear sample
(mmcv); "max_corner" is ONNX's definition (onnx.reference, ONNX
Runtime): the largest of the four weighted corner terms w_i * v_i of each sample, 0 if none.
Coordinates are float32, rounded after every operation in the CUDA kernel's order (its
plugins/roi_align/roi_align.cu rounds the same way, without fused multiply-adds), so that sample
positions agree bit for bit and large maps do not move a sample by an ulp between the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RoiAlignParams:
    output_height: int
    output_width: int
    spatial_scale: float
    sampling_ratio: int
    offset: float  # 0.5: half_pixel / aligned
    pool: str  # "avg", "max" or "max_corner"


def axis_samples(xp: ModuleType, start: np.float32, bin_size: np.float32, bins: int, grid: int, size: int):
    """(low, high, w_low, w_high) of shape (bins, grid): the bilinear taps along one axis."""
    step = bin_size / np.float32(grid) if grid else np.float32(0)
    base = xp.float32(start) + xp.arange(bins, dtype=xp.float32)[:, None] * xp.float32(bin_size)
    pos = base + (xp.arange(grid, dtype=xp.float32)[None, :] + xp.float32(0.5)) * xp.float32(step)
    valid = (pos >= -1.0) & (pos <= size)
    pos = xp.maximum(pos, 0.0)
    low = xp.floor(pos).astype(xp.int64)
    at_edge = low >= size - 1
    low = xp.where(at_edge, size - 1, low)
    high = xp.where(at_edge, size - 1, low + 1)
    frac = xp.where(at_edge, 0.0, pos - low).astype(xp.float32)
    w_high = xp.where(valid, frac, 0.0).astype(xp.float32)
    w_low = xp.where(valid, 1.0 - frac, 0.0).astype(xp.float32)
    return low, high, w_low, w_high


def region(box: Any, p: RoiAlignParams) -> tuple[np.float32, np.float32, np.float32, np.float32, int, int]:
    """(start_h, start_w, bin_h, bin_w, grid_h, grid_w) of one box (x1, y1, x2, y2), in float32."""
    f32 = np.float32
    x1, y1, x2, y2 = (f32(v) * f32(p.spatial_scale) - f32(p.offset) for v in box)
    height, width = y2 - y1, x2 - x1
    if p.offset == 0.0:
        height, width = max(height, f32(1)), max(width, f32(1))
    bin_h, bin_w = height / f32(p.output_height), width / f32(p.output_width)
    grid_h = p.sampling_ratio if p.sampling_ratio > 0 else max(0, math.ceil(bin_h))
    grid_w = p.sampling_ratio if p.sampling_ratio > 0 else max(0, math.ceil(bin_w))
    return y1, x1, bin_h, bin_w, grid_h, grid_w


def pool_region(xp: ModuleType, image: Any, box: Any, p: RoiAlignParams) -> Any:
    """(C, output_height, output_width) of one region of image (C, H, W)."""
    c, h, w = image.shape
    y1, x1, bin_h, bin_w, gh, gw = region(box, p)
    if gh * gw == 0:
        return xp.zeros((c, p.output_height, p.output_width), dtype=xp.float32)
    ys = axis_samples(xp, y1, bin_h, p.output_height, gh, h)
    xs = axis_samples(xp, x1, bin_w, p.output_width, gw, w)
    rows = xp.stack([ys[0], ys[1]], axis=-1)  # (PH, gh, 2)
    cols = xp.stack([xs[0], xs[1]], axis=-1)  # (PW, gw, 2)
    wy = xp.stack([ys[2], ys[3]], axis=-1)
    wx = xp.stack([xs[2], xs[3]], axis=-1)
    # values[c, ph, iy, a, pw, ix, b] = image[c, rows[ph, iy, a], cols[pw, ix, b]]
    values = image[:, rows[:, :, :, None, None, None], cols[None, None, None, :, :, :]]
    weights = wy[:, :, :, None, None, None] * wx[None, None, None, :, :, :]
    terms = values * weights
    if p.pool == "avg":
        return terms.sum(axis=(2, 3, 5, 6)) / xp.float32(gh * gw)
    if p.pool == "max":
        return terms.sum(axis=(3, 6)).max(axis=(2, 4))
    return terms.max(axis=(3, 6)).max(axis=(2, 4))


def roi_align(xp: ModuleType, x: Any, boxes: Any, batch: Any, p: RoiAlignParams) -> Any:
    """Y (K, C, output_height, output_width) for boxes (K, 4) on images batch (K,) of x."""
    image_of = [int(b) for b in (batch.get() if hasattr(batch, "get") else batch)]
    host_boxes = boxes.get() if hasattr(boxes, "get") else np.asarray(boxes)
    out = xp.zeros((len(image_of), x.shape[1], p.output_height, p.output_width), dtype=xp.float32)
    if x.shape[1] == 0 or x.shape[2] * x.shape[3] == 0:
        return out
    data = x.astype(xp.float32)
    for k, b in enumerate(image_of):
        out[k] = pool_region(xp, data[b], host_boxes[k], p)
    return out
