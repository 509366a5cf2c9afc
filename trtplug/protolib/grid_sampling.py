"""N-D grid sampling (ai.onnx GridSample, mmcv grid_sampler = torch grid_sample) in float32.

X is (N, C, *S), grid (N, *O, k) with k = len(S) normalized coordinates in [-1, 1], the last one
along S's first axis reversed (x = width first). Y is (N, C, *O).

Two orders of the padding step, which differ only at the border:
- "onnx" (onnx.reference, the ONNX conformance data): nearest rounds (half to even) before
  padding; a coordinate outside [lo, hi] (align_corners: [0, L-1], else [-0.5, L-0.5]) is clamped
  (border) or reflected (reflection) for every mode, cubic included;
- "torch" (torch grid_sample, mmcv): the coordinate is padded (reflected, then clipped to
  [0, L-1]) before linear and nearest, nearest rounds after; cubic pads only its taps.
Every tap index is padded again (zeros: outside taps weigh 0).
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

MODES = {"bilinear": "linear", "linear": "linear", "nearest": "nearest", "bicubic": "cubic", "cubic": "cubic"}
CUBIC_A = -0.75


def unnormalize(coord: Any, length: int, align_corners: bool) -> Any:
    if align_corners:
        return (coord + 1.0) * 0.5 * (length - 1)
    return ((coord + 1.0) * length - 1.0) * 0.5


def bounds(length: int, align_corners: bool) -> tuple[float, float]:
    return (0.0, length - 1.0) if align_corners else (-0.5, length - 0.5)


def reflect(xp: ModuleType, x: Any, lo: float, hi: float) -> Any:
    """x folded into [lo, hi] by reflections at both ends (lo == hi: every x becomes lo)."""
    span = hi - lo
    if span <= 0:
        return xp.full_like(x, lo)
    below = x < lo
    dist = xp.where(below, lo - x, x - hi)
    flips = xp.floor(dist / span)
    rest = dist - flips * span
    even = (flips % 2) == 0
    from_below = xp.where(even, lo + rest, hi - rest)
    from_above = xp.where(even, hi - rest, lo + rest)
    return xp.where(below, from_below, xp.where(x > hi, from_above, x))


def pad_coordinate(xp: ModuleType, x: Any, length: int, padding: str, align: bool, order: str) -> Any:
    lo, hi = bounds(length, align)
    if padding == "zeros":
        return x
    outside = (x < lo) | (x > hi)
    if padding == "border":
        clamped = xp.clip(x, 0.0, length - 1.0)
        return xp.where(outside, clamped, x) if order == "onnx" else clamped
    reflected = reflect(xp, x, lo, hi)
    return reflected if order == "onnx" else xp.clip(reflected, 0.0, length - 1.0)


def pad_taps(xp: ModuleType, index: Any, length: int, padding: str, align: bool) -> tuple[Any, Any]:
    """(in-range int64 index, validity) of integer tap positions; zeros padding marks outside taps."""
    if padding == "zeros":
        valid = (index >= 0) & (index < length)
        return xp.clip(index, 0, length - 1).astype(xp.int64), valid
    if padding == "reflection":
        lo, hi = bounds(length, align)
        index = xp.trunc(reflect(xp, index.astype(xp.float32), lo, hi))
    return xp.clip(index, 0, length - 1).astype(xp.int64), xp.ones(index.shape, dtype=bool)


def cubic_weights(xp: ModuleType, t: Any) -> list[Any]:
    """Keys' cubic convolution weights of taps -1, 0, 1, 2 at fraction t (A = -0.75)."""
    a = CUBIC_A

    def near(d: Any) -> Any:
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: Any) -> Any:
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def axis_taps(xp: ModuleType, x: Any, length: int, mode: str, padding: str, align: bool, order: str):
    """Per-tap (index, weight) pairs along one axis for unnormalized coordinates x."""
    if mode == "cubic":
        if order == "onnx":
            x = pad_coordinate(xp, x, length, padding, align, order)
        base = xp.floor(x)
        weights = cubic_weights(xp, x - base)
        starts = [base + offset for offset in (-1, 0, 1, 2)]
    elif mode == "linear":
        x = pad_coordinate(xp, x, length, padding, align, order)
        base = xp.floor(x)
        weights = [1.0 - (x - base), x - base]
        starts = [base, base + 1]
    else:
        if order == "onnx":
            x = pad_coordinate(xp, xp.rint(x), length, padding, align, order)
            starts = [xp.trunc(x)]
        else:
            starts = [xp.rint(pad_coordinate(xp, x, length, padding, align, order))]
        weights = [xp.ones_like(x)]
    taps = []
    for start, weight in zip(starts, weights, strict=True):
        index, valid = pad_taps(xp, start, length, padding, align)
        taps.append((index, xp.where(valid, weight, 0.0).astype(xp.float32)))
    return taps


def grid_sample(xp: ModuleType, x: Any, grid: Any, mode: str, padding: str, align: bool, order: str) -> Any:
    """Y (N, C, *O) in float32; see the module docstring for the semantics."""
    n, c, *spatial = x.shape
    out_spatial = grid.shape[1:-1]
    if grid.shape[-1] != len(spatial):
        raise ValueError(f"grid's last dimension {grid.shape[-1]} must equal X's spatial rank {len(spatial)}")
    if n * c * math.prod(out_spatial) == 0 or 0 in spatial:  # nothing to sample (an empty X reads as zeros)
        return xp.zeros((n, c, *out_spatial), dtype=xp.float32)
    g = grid.astype(xp.float32).reshape(n, -1, len(spatial))
    per_axis = []
    for axis, length in enumerate(spatial):
        coord = unnormalize(g[..., len(spatial) - 1 - axis], length, align)
        per_axis.append(axis_taps(xp, coord, length, MODES[mode], padding, align, order))
    flat = x.astype(xp.float32).reshape(n, c, -1)
    strides = [math.prod(spatial[i + 1 :]) for i in range(len(spatial))]
    result = xp.zeros((n, c, g.shape[1]), dtype=xp.float32)
    for combo in _tap_combinations(per_axis):
        offset = sum(index * stride for (index, _), stride in zip(combo, strides, strict=True))
        weight = xp.prod(xp.stack([w for _, w in combo]), axis=0)
        gathered = xp.take_along_axis(flat, xp.broadcast_to(offset[:, None, :], (n, c, offset.shape[1])), axis=2)
        result += gathered * weight[:, None, :]
    return result.reshape(n, c, *out_spatial)


def _tap_combinations(per_axis: list[list[tuple[Any, Any]]]) -> list[list[tuple[Any, Any]]]:
    combos: list[list[tuple[Any, Any]]] = [[]]
    for taps in per_axis:
        combos = [[*combo, tap] for combo in combos for tap in taps]
    return combos
