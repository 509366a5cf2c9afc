"""RoiAlign prototypes (plugins/roi_align/spec.toml), one per member, keyed by op key:

- onnx_roi_align:         ai.onnx RoiAlign opset 16+ (coordinate_transformation_mode);
- onnx_roi_align_opset10: ai.onnx RoiAlign opset 10-15 (always output_half_pixel);
- mmcv_roi_align:         mmcv::MMCVRoiAlign, rois (K, 5) = (batch index, x1, y1, x2, y2),
  `aligned` = half_pixel, max = the largest bilinear sample.
ONNX's max is the largest weighted corner term (trtplug/protolib/roi_align.py says how).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib.roi_align import RoiAlignParams, roi_align

Attrs = Mapping[str, Any]


def onnx_params(attrs: Attrs, half_pixel: bool) -> RoiAlignParams:
    return RoiAlignParams(
        int(attrs["output_height"]),
        int(attrs["output_width"]),
        float(attrs["spatial_scale"]),
        int(attrs["sampling_ratio"]),
        0.5 if half_pixel else 0.0,
        "avg" if attrs["mode"] == "avg" else "max_corner",
    )


def mmcv_params(attrs: Attrs) -> RoiAlignParams:
    return RoiAlignParams(
        int(attrs["output_height"]),
        int(attrs["output_width"]),
        float(attrs["spatial_scale"]),
        int(attrs["sampling_ratio"]),
        0.5 if int(attrs["aligned"]) else 0.0,
        "avg" if attrs["mode"] == "avg" else "max",
    )


def onnx_forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    p = onnx_params(attrs, attrs.get("coordinate_transformation_mode", "half_pixel") == "half_pixel")
    outputs[0][...] = roi_align(xp, inputs[0], inputs[1], inputs[2], p).astype(outputs[0].dtype)


def opset10_forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    outputs[0][...] = roi_align(xp, inputs[0], inputs[1], inputs[2], onnx_params(attrs, False)).astype(outputs[0].dtype)


def mmcv_forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    rois = inputs[1]
    batch = rois[:, 0].astype(xp.int64) if rois.shape[0] else xp.zeros(0, dtype=xp.int64)
    outputs[0][...] = roi_align(xp, inputs[0], rois[:, 1:5], batch, mmcv_params(attrs)).astype(outputs[0].dtype)


def output_shapes(inputs: Sequence[Any], attrs: Attrs) -> list[tuple[int, ...]]:
    """(K, C, output_height, output_width)."""
    x, rois = inputs[0], inputs[1]
    return [(rois.shape[0], x.shape[1], int(attrs["output_height"]), int(attrs["output_width"]))]


def output_dims(inputs: Sequence[Any], attrs: Attrs, builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions (symbolic in the TensorRT plugin: trtplug.protoplugin)."""
    x, rois = inputs[0], inputs[1]
    return [(rois[0], x[1], int(attrs["output_height"]), int(attrs["output_width"]))]


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """A detection head: 256-channel feature map of ~nbytes, 512 regions pooled to 7 x 7."""
    side = max(8, int((nbytes / itemsize / 256 / 2) ** 0.5))
    return {"X": (2, 256, side, side), "rois": (512, 4), "batch_indices": (512,)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"output_height": 7, "output_width": 7, "sampling_ratio": 2, "spatial_scale": 0.25, "mode": "avg"}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Boxes inside (and partly outside) the map with valid image indices, as the parity cases draw them."""
    from trtplug.parity.roi_inputs import roi_align_regions

    return roi_align_regions(dict(shapes), bench_attrs(shapes), rng)


def mmcv_bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """bench_shapes with mmcv's rois: (K, 5), the batch index first."""
    shapes = bench_shapes(nbytes, itemsize)
    return {"X": shapes["X"], "rois": (shapes["rois"][0], 5)}


def mmcv_torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """torchvision.ops.roi_align takes mmcv's (batch index, box) rows as they are (avg mode)."""
    return _torchvision(torch, inputs[0], inputs[1], attrs, bool(attrs["aligned"]))


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """torchvision.ops.roi_align (avg pooling, aligned = half_pixel) on (batch index, box) rows."""
    half_pixel = attrs.get("coordinate_transformation_mode", "half_pixel") == "half_pixel"
    return _torchvision_roi_align(torch, inputs, attrs, half_pixel)


def opset10_torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """Opset 10 has no half-pixel offset: torchvision's aligned=False."""
    return _torchvision_roi_align(torch, inputs, attrs, False)


def _torchvision_roi_align(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs, half_pixel: bool) -> Any:
    x, rois, batch = inputs[0], inputs[1], inputs[2]
    boxes = torch.cat([batch.to(rois.dtype)[:, None], rois], dim=1)
    return _torchvision(torch, x, boxes, attrs, half_pixel)


def _torchvision(torch: ModuleType, x: Any, boxes: Any, attrs: Attrs, aligned: bool) -> Any:
    """torchvision.ops.roi_align on (batch index, box) rows; bf16 through float32 (TORCH_NOTE)."""
    from torchvision.ops import roi_align as tv_roi_align

    size = (int(attrs["output_height"]), int(attrs["output_width"]))
    scale, ratio = float(attrs["spatial_scale"]), int(attrs["sampling_ratio"])
    if x.dtype == torch.bfloat16:  # torchvision has no bf16 kernel: what a bf16 model would call
        return tv_roi_align(x.float(), boxes.float(), size, scale, ratio, aligned=aligned).to(x.dtype)
    return tv_roi_align(x, boxes, size, scale, ratio, aligned=aligned)


# The bench's torch rows: bf16 converted (torchvision has no bf16 kernel), fp16 timed unchecked.
TORCH_NOTE = "bf16: torchvision in float32 (no bf16 kernel), the conversions included"
TORCH_UNCHECKED = {
    "float16": "torchvision's half kernel computes in fp16 (box coordinates, sample weights, sums): a quarter of "
    "its outputs fall outside 10x the fp16 tolerance (up to 2.9 off; H100, 256 MB)"
}
TORCH_SIDE = {"TORCH_NOTE": TORCH_NOTE, "TORCH_UNCHECKED": TORCH_UNCHECKED}  # every member's


def _member(forward, torch_counterpart) -> SimpleNamespace:
    return SimpleNamespace(
        **TORCH_SIDE,
        forward=forward,
        output_shapes=output_shapes,
        output_dims=output_dims,
        bench_shapes=bench_shapes,
        bench_attrs=bench_attrs,
        bench_inputs=bench_inputs,
        torch_equivalent=torch_counterpart,
    )


members = {
    "onnx_roi_align": _member(onnx_forward, torch_equivalent),
    "onnx_roi_align_opset10": _member(opset10_forward, opset10_torch_equivalent),
    "mmcv_roi_align": SimpleNamespace(
        **TORCH_SIDE,
        forward=mmcv_forward,
        output_shapes=output_shapes,
        output_dims=output_dims,
        bench_shapes=mmcv_bench_shapes,
        bench_attrs=bench_attrs,
        bench_inputs=bench_inputs,
        torch_equivalent=mmcv_torch_equivalent,
    ),
}
