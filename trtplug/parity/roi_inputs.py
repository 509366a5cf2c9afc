"""Parity inputs of RoI Align (plugins/roi_align/): boxes as detection heads produce them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trtplug.protolib.dtypes import BF16

# A sample this close to -1 or to the map's size (where it stops reading 0), or a region this close
# to a whole number of samples per bin, flips with float32's rounding: such boxes are redrawn.
BOUNDARY_MARGIN = 1e-3
MAX_DRAWS = 100


def roi_align_regions(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Boxes (x1, y1, x2, y2) in image coordinates (feature map / spatial_scale): centres over the
    map and a margin past it (some boxes partly or wholly outside), sizes from a fraction of a
    pixel to the whole map, a few degenerate (x2 <= x1) and valid batch indices. ONNX RoiAlign
    gets rois (K, 4) and batch_indices (K,); mmcv's rois (K, 5) lead with the batch index.

    Coordinates lie on bfloat16's grid, so every run dtype sees the same boxes, and no box has a
    sample on a discontinuity of RoI Align (see `_on_boundary`): there the float64 reference and
    a float32 kernel may legitimately differ by a whole pixel value."""
    n, _, height, width = shapes["X"]
    k, columns = shapes["rois"]
    boxes = np.stack([_draw_box(rng, height, width, attrs) for _ in range(k)]) if k else np.zeros((0, 4), np.float32)
    batch = rng.integers(0, max(n, 1), k)
    if columns == 5:
        return {"rois": np.concatenate([batch[:, None], boxes], axis=1).astype(np.float32)}
    return {"rois": boxes.astype(np.float32), "batch_indices": batch.astype(np.int64)}


def _draw_box(rng: np.random.Generator, height: int, width: int, attrs: dict[str, Any]) -> np.ndarray:
    scale = float(attrs.get("spatial_scale", 1.0))
    extent = np.array([width, height], np.float32)
    for _ in range(MAX_DRAWS):
        centre = rng.uniform(-0.2, 1.2, 2) * extent
        size = rng.uniform(0.05, 1.0, 2) ** 2 * extent * 1.2
        if rng.random() < 0.05:
            size *= -0.1  # degenerate: inverted corners
        box = (np.concatenate([centre - size / 2, centre + size / 2]) / scale).astype(BF16).astype(np.float32)
        if not _on_boundary(box, height, width, attrs):
            break
    return box


def _on_boundary(box: np.ndarray, height: int, width: int, attrs: dict[str, Any]) -> bool:
    """Whether float32 rounding could change the box's result, for either offset (half_pixel or
    not): a sample within BOUNDARY_MARGIN of -1 or the axis size, or an adaptive grid count on
    the edge of a whole number."""
    scale = float(attrs.get("spatial_scale", 1.0))
    ratio = int(attrs.get("sampling_ratio", 0))
    for offset in (0.0, 0.5):
        for lo, hi, size, bins in (
            (box[1], box[3], height, attrs.get("output_height", 1)),
            (box[0], box[2], width, attrs.get("output_width", 1)),
        ):
            start = float(lo) * scale - offset
            extent = float(hi) * scale - offset - start
            if offset == 0.0:
                extent = max(extent, 1.0)
            per_bin = extent / int(bins)
            if ratio <= 0 and abs(per_bin - round(per_bin)) < BOUNDARY_MARGIN:
                return True
            grid = ratio if ratio > 0 else max(0, math.ceil(per_bin))
            if grid == 0:
                continue
            pos = start + np.arange(int(bins))[:, None] * per_bin + (np.arange(grid)[None, :] + 0.5) * per_bin / grid
            if np.any(np.abs(pos + 1.0) < BOUNDARY_MARGIN) or np.any(np.abs(pos - size) < BOUNDARY_MARGIN):
                return True
    return False
