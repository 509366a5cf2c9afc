"""References of the RoI Align family members that onnx.reference does not run directly:

- mmcv::MMCVRoiAlign, from mmcv's documented semantics (mmcv.ops.RoIAlign and its
  roi_align_forward kernel), in float64, one sample at a time, independent of the prototype
  (trtplug/protolib/roi_align.py): rois (K, 5) = (batch, x1, y1, x2, y2); aligned subtracts half a
  pixel after scaling, otherwise a region is at least 1 x 1; each bin holds sampling_ratio^2
  samples (0: ceil(region / bins) per axis) at the centres of a regular sub-grid; a sample beyond
  [-1, H] x [-1, W] is 0, others are clamped into the image and interpolated bilinearly;
  "avg" divides the sum by max(count, 1), "max" keeps the largest sample. A bin without samples
  is 0 (mmcv's kernel leaves -FLT_MAX, -inf in fp16: trtplug writes 0, as ONNX does).
- ai.onnx RoiAlign opset 10-15: ONNX defines it as opset 16's op with
  coordinate_transformation_mode = output_half_pixel, run by onnx.reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _bilinear(image: np.ndarray, y: float, x: float) -> np.ndarray:
    _, height, width = image.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return np.zeros(image.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return (
        (1 - ly) * (1 - lx) * image[:, y0, x0]
        + (1 - ly) * lx * image[:, y0, x1]
        + ly * (1 - lx) * image[:, y1, x0]
        + ly * lx * image[:, y1, x1]
    )


def _bin(image: np.ndarray, start: tuple[float, float], step: tuple[float, float], grid: tuple[int, int], pool: str):
    samples = [
        _bilinear(image, start[0] + (iy + 0.5) * step[0], start[1] + (ix + 0.5) * step[1])
        for iy in range(grid[0])
        for ix in range(grid[1])
    ]
    if pool == "max":
        return np.max(samples, axis=0) if samples else np.zeros(image.shape[0])
    return np.sum(samples, axis=0) / max(grid[0] * grid[1], 1) if samples else np.zeros(image.shape[0])


def mmcv_roi_align(x: np.ndarray, rois: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    out_h, out_w = int(attrs["output_height"]), int(attrs["output_width"])
    scale, ratio = float(attrs["spatial_scale"]), int(attrs["sampling_ratio"])
    offset = 0.5 if int(attrs["aligned"]) else 0.0
    out = np.zeros((rois.shape[0], x.shape[1], out_h, out_w))
    if x.shape[1] == 0 or x.shape[2] * x.shape[3] == 0:
        return out
    for k, (batch, x1, y1, x2, y2) in enumerate(rois.astype(np.float64)):
        start_w, start_h = x1 * scale - offset, y1 * scale - offset
        roi_w, roi_h = x2 * scale - offset - start_w, y2 * scale - offset - start_h
        if not offset:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / out_h, roi_w / out_w
        grid_h = ratio if ratio > 0 else max(math.ceil(roi_h / out_h), 0)
        grid_w = ratio if ratio > 0 else max(math.ceil(roi_w / out_w), 0)
        step = (bin_h / grid_h if grid_h else 0.0, bin_w / grid_w if grid_w else 0.0)
        for ph in range(out_h):
            for pw in range(out_w):
                start = (start_h + ph * bin_h, start_w + pw * bin_w)
                out[k, :, ph, pw] = _bin(x[int(batch)], start, step, (grid_h, grid_w), attrs["mode"])
    return out


def onnx_opset10_roi_align(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node(
        "RoiAlign",
        ["X", "rois", "batch_indices"],
        ["Y"],
        coordinate_transformation_mode="output_half_pixel",
        **{k: attrs[k] for k in ("mode", "output_height", "output_width", "sampling_ratio", "spatial_scale")},
    )
    graph = helper.make_graph(
        [node],
        "roi_align_opset10",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(inputs[n].dtype), None) for n in node.input],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    return ReferenceEvaluator(model).run(None, {n: inputs[n] for n in node.input})[0]


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    if "aligned" in attrs:  # only mmcv's op has it
        return [mmcv_roi_align(inputs["X"].astype(np.float64), inputs["rois"], attrs)]
    return [onnx_opset10_roi_align(inputs, attrs)]
