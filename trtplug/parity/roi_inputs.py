"""Parity inputs of RoI Align (plugins/roi_align/): boxes as detection heads produce them."""

from __future__ import annotations

from typing import Any

import numpy as np


def roi_align_regions(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Boxes (x1, y1, x2, y2) in image coordinates (feature map / spatial_scale): centres over the
    map and a margin past it (some boxes partly or wholly outside), sizes from a fraction of a
    pixel to the whole map, a few degenerate (x2 <= x1) and valid batch indices. ONNX RoiAlign
    gets rois (K, 4) and batch_indices (K,); mmcv's rois (K, 5) lead with the batch index."""
    n, _, height, width = shapes["X"]
    k, columns = shapes["rois"]
    scale = float(attrs.get("spatial_scale", 1.0))
    extent = np.array([width, height], np.float32)
    centre = rng.uniform(-0.2, 1.2, (k, 2)) * extent
    size = rng.uniform(0.05, 1.0, (k, 2)) ** 2 * extent * 1.2
    size[rng.random(k) < 0.05] *= -0.1  # degenerate: inverted corners
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) / scale
    batch = rng.integers(0, max(n, 1), k)
    if columns == 5:
        return {"rois": np.concatenate([batch[:, None], boxes], axis=1).astype(np.float32)}
    return {"rois": boxes.astype(np.float32), "batch_indices": batch.astype(np.int64)}
