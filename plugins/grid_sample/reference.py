"""NumPy reference of mmcv::grid_sampler, written from torch.nn.functional.grid_sample's documented
semantics (mmcv's op is torch's, exported by mmdeploy) and the steps of ATen's GridSampler.h,
independent of the prototype (trtplug/protolib/grid_sampling.py). Coordinates are float32, as ATen
computes them for float32 input (nearest then rounds a near-tie the same way); sums are float64.

- unnormalize: align_corners ((g + 1) / 2) (L - 1), else ((g + 1) L - 1) / 2;
- padding of the source coordinate (bilinear, nearest): border clips to [0, L - 1]; reflection
  reflects over [0, L - 1] (align_corners) or [-0.5, L - 0.5] (fmod by the span, odd flips
  mirrored), then clips to [0, L - 1]; nearest then rounds half to even;
- bicubic: the unpadded coordinate, Keys' convolution with A = -0.75 over taps floor - 1 .. + 2,
  each tap index padded the same way (zeros: a tap outside reads 0).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

_A = -0.75


def _reflect(x: np.ndarray, twice_low: int, twice_high: int) -> np.ndarray:
    """ATen reflect_coordinates: x mirrored into [twice_low / 2, twice_high / 2]."""
    if twice_low == twice_high:
        return np.zeros_like(x)
    low, span = np.float32(twice_low / 2.0), np.float32((twice_high - twice_low) / 2.0)
    dist = np.abs(x - low)
    extra = np.fmod(dist, span)
    flips = np.floor(dist / span)
    return np.where(flips % 2 == 0, extra + low, span - extra + low)


def _pad(x: np.ndarray, size: int, padding: int, align: bool) -> np.ndarray:
    """ATen compute_coordinates (padding 0 zeros, 1 border, 2 reflection)."""
    if padding == 1:
        return np.clip(x, 0, size - 1)
    if padding == 2:
        x = _reflect(x, 0, 2 * (size - 1)) if align else _reflect(x, -1, 2 * size - 1)
        return np.clip(x, 0, size - 1)
    return x


def _cubic(t: np.ndarray) -> list[np.ndarray]:
    def inner(d):  # |d| <= 1
        return ((_A + 2) * d - (_A + 3)) * d * d + 1

    def outer(d):  # 1 < |d| < 2
        return ((_A * d - 5 * _A) * d + 8 * _A) * d - 4 * _A

    return [outer(t + 1), inner(t), inner(1 - t), outer(2 - t)]


def _taps(x: np.ndarray, size: int, mode: int, padding: int, align: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(integer position before the zeros check, weight) per tap along one axis."""
    if mode == 2:
        base = np.floor(x)
        return [(_pad(base + k - 1, size, padding, align), w) for k, w in enumerate(_cubic(x - base))]
    x = _pad(x, size, padding, align)
    if mode == 1:
        return [(np.rint(x), np.ones_like(x))]
    base = np.floor(x)
    return [(base, 1.0 - (x - base)), (base + 1, x - base)]


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs["X"].astype(np.float64)
    grid = inputs["grid"].astype(np.float32)  # ATen's coordinate math is in float32 for float32 input
    mode, padding, align = int(attrs["interpolation_mode"]), int(attrs["padding_mode"]), bool(attrs["align_corners"])
    n, c, *sizes = x.shape
    out = np.zeros((n, c, *grid.shape[1:-1]))
    if out.size == 0 or 0 in sizes:
        return [out]
    for b in range(n):
        points = grid[b].reshape(-1, len(sizes))
        axes = []
        for d, size in enumerate(sizes):  # grid's last entry is along X's first spatial axis
            g = points[:, len(sizes) - 1 - d]
            src = (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2
            axes.append([(pos, w.astype(np.float64)) for pos, w in _taps(src, size, mode, padding, align)])
        total = np.zeros((c, points.shape[0]))
        for combo in itertools.product(*axes):
            index = [pos.astype(np.int64) for pos, _ in combo]
            inside = np.all([(i >= 0) & (i < s) for i, s in zip(index, sizes, strict=True)], axis=0)
            weight = np.prod([w for _, w in combo], axis=0) * inside
            clipped = tuple(np.clip(i, 0, s - 1) for i, s in zip(index, sizes, strict=True))
            total += x[b][(slice(None), *clipped)] * weight
        out[b] = total.reshape(c, *grid.shape[1:-1])
    return [out]
