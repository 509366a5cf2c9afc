"""Deformable-convolution prototypes (plugins/deform_conv/spec.toml), one per member, keyed by op key:

- onnx_deform_conv:           ai.onnx DeformConv (X, W, offset, B?, mask?)
- mmcv_modulated_deform_conv: mmcv MMCVModulatedDeformConv2d (input, offset, mask, weight, bias?)
- mmcv_deform_conv:           mmcv MMCVDeformConv2d (input, offset, weight)

All share one float32 core: per kernel point, the bilinear samples of every channel at the
offset positions (a neighbour outside the image reads 0), times the mask, gathered into columns
[N, C * K, oH * oW]; then one grouped matmul with the weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import Any

Attrs = Mapping[str, Any]
BENCH_CHANNELS, BENCH_SIDE, BENCH_BATCH = 64, 128, 8
# shown on the bench's torch rows: torchvision's fp16 kernel computes sampling positions in fp16
# (outputs outside tolerance at 128-pixel sides) and it has no bf16 kernel
TORCH_NOTE = "16-bit: torchvision in fp32, cast back (its fp16 samples at fp16 positions; no bf16)"


@dataclass(frozen=True)
class Geometry:
    strides: tuple[int, int]
    pads: tuple[int, int]  # top, left (the bottom/right pads only size the output, given by offset)
    dilations: tuple[int, int]
    group: int
    offset_group: int


def onnx_geometry(attrs: Attrs) -> Geometry:
    """ai.onnx attributes, empty lists as the ONNX defaults."""
    pads = list(attrs.get("pads") or [0, 0, 0, 0])
    return Geometry(
        tuple(attrs.get("strides") or (1, 1)),
        (pads[0], pads[1]),
        tuple(attrs.get("dilations") or (1, 1)),
        int(attrs.get("group", 1)),
        int(attrs.get("offset_group", 1)),
    )


def mmcv_geometry(attrs: Attrs) -> Geometry:
    return Geometry(
        tuple(attrs["stride"]),
        tuple(attrs["padding"]),
        tuple(attrs["dilation"]),
        int(attrs["groups"]),
        int(attrs["deform_groups"]),
    )


def _bilinear_columns(xp: ModuleType, x: Any, py: Any, px: Any) -> Any:
    """x [N, G, Cg, H, W], py/px [N, G, P]: samples [N, G, Cg, P] (outside neighbours are 0)."""
    height, width = x.shape[3:]
    flat = x.reshape(*x.shape[:3], height * width)
    y0, x0 = xp.floor(py), xp.floor(px)
    total = xp.zeros((*x.shape[:3], py.shape[-1]), "float32")
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
            index = (xp.clip(yy, 0, height - 1) * width + xp.clip(xx, 0, width - 1)).astype("int64")
            values = xp.take_along_axis(flat, index[:, :, None, :], axis=3)
            total += (xp.where(inside, wy * wx, 0)[:, :, None, :] * values).astype("float32")
    return total


def deform_conv(xp: ModuleType, x: Any, weight: Any, offset: Any, mask: Any, bias: Any, geo: Geometry) -> Any:
    """Y [N, OC, oH, oW] in float32."""
    batch, channels, height, width = x.shape
    out_channels, group_channels, kh, kw = weight.shape
    out_h, out_w = offset.shape[2:]
    og, points = geo.offset_group, kh * kw
    x32 = x.astype("float32").reshape(batch, og, channels // og, height, width)
    offset32 = offset.astype("float32").reshape(batch, og, points, 2, out_h * out_w)
    oy = (xp.arange(out_h) * geo.strides[0] - geo.pads[0]).astype("float32")
    ox = (xp.arange(out_w) * geo.strides[1] - geo.pads[1]).astype("float32")
    base_y = xp.repeat(oy, out_w)
    base_x = xp.tile(ox, out_h)
    columns = xp.zeros((batch, og, channels // og, points, out_h * out_w), "float32")
    for k in range(points):
        i, j = divmod(k, kw)
        py = base_y + i * geo.dilations[0] + offset32[:, :, k, 0]
        px = base_x + j * geo.dilations[1] + offset32[:, :, k, 1]
        columns[:, :, :, k] = _bilinear_columns(xp, x32, py, px)
    if mask is not None:
        columns *= mask.astype("float32").reshape(batch, og, 1, points, out_h * out_w)
    grouped = columns.reshape(batch, geo.group, group_channels * points, out_h * out_w)
    w = weight.astype("float32").reshape(geo.group, out_channels // geo.group, group_channels * points)
    y = xp.matmul(w[None], grouped).reshape(batch, out_channels, out_h, out_w)
    if bias is not None:
        y += bias.astype("float32").reshape(1, out_channels, 1, 1)
    return y


def _given(inputs: Sequence[Any], index: int) -> Any:
    """An optional input, None when absent or the rewrite's empty placeholder of an absent one."""
    value = inputs[index] if index < len(inputs) else None
    return None if value is None or (value.ndim == 1 and value.size == 0) else value


def _forward_onnx(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, w, offset = inputs[:3]
    y = deform_conv(xp, x, w, offset, _given(inputs, 4), _given(inputs, 3), onnx_geometry(attrs))
    outputs[0][...] = y.astype(outputs[0].dtype)


def _forward_mmcv_modulated(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, offset, mask, w = inputs[:4]
    y = deform_conv(xp, x, w, offset, mask, _given(inputs, 4), mmcv_geometry(attrs))
    outputs[0][...] = y.astype(outputs[0].dtype)


def _forward_mmcv(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, offset, w = inputs[:3]
    outputs[0][...] = deform_conv(xp, x, w, offset, None, None, mmcv_geometry(attrs)).astype(outputs[0].dtype)


def _torch_deform_conv(torch: ModuleType, x: Any, w: Any, offset: Any, mask: Any, bias: Any, geo: Geometry) -> Any:
    """torchvision.ops.deform_conv2d (imported lazily: the bench's torch side); 16-bit inputs in
    float32, cast back (TORCH_NOTE)."""
    import torchvision

    wide = [None if t is None else t.float() for t in (x, offset, w, bias, mask)]
    y = torchvision.ops.deform_conv2d(
        *wide[:4], stride=geo.strides, padding=geo.pads, dilation=geo.dilations, mask=wide[4]
    )
    return y.to(x.dtype)


def _torch_onnx(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    x, w, offset = inputs[:3]
    return _torch_deform_conv(torch, x, w, offset, _given(inputs, 4), _given(inputs, 3), onnx_geometry(attrs))


def _torch_mmcv_modulated(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    x, offset, mask, w = inputs[:4]
    return _torch_deform_conv(torch, x, w, offset, mask, _given(inputs, 4), mmcv_geometry(attrs))


def _torch_mmcv(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    x, offset, w = inputs[:3]
    return _torch_deform_conv(torch, x, w, offset, None, None, mmcv_geometry(attrs))


def _bench_geometry(nbytes: int, itemsize: int) -> tuple[int, int, int, int]:
    """Batch (up to 8, from the request), channels, side, kernel points: 64 -> 64 channels, 3x3, 128x128."""
    per_image = BENCH_CHANNELS * BENCH_SIDE * BENCH_SIDE * itemsize
    return max(1, min(BENCH_BATCH, nbytes // per_image)), BENCH_CHANNELS, BENCH_SIDE, 9


def _bench_shapes_onnx(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    n, c, side, k = _bench_geometry(nbytes, itemsize)
    return {"X": (n, c, side, side), "W": (c, c, 3, 3), "offset": (n, 2 * k, side, side), "mask": (n, k, side, side)}


def _bench_shapes_mmcv_modulated(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    n, c, side, k = _bench_geometry(nbytes, itemsize)
    return {
        "input": (n, c, side, side),
        "offset": (n, 2 * k, side, side),
        "mask": (n, k, side, side),
        "weight": (c, c, 3, 3),
    }


def _bench_shapes_mmcv(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    n, c, side, k = _bench_geometry(nbytes, itemsize)
    return {"input": (n, c, side, side), "offset": (n, 2 * k, side, side), "weight": (c, c, 3, 3)}


members = {
    "onnx_deform_conv": SimpleNamespace(
        forward=_forward_onnx,
        torch_equivalent=_torch_onnx,
        TORCH_NOTE=TORCH_NOTE,
        bench_shapes=_bench_shapes_onnx,
        bench_attrs=lambda shapes: {"pads": [1, 1, 1, 1]},
    ),
    "mmcv_modulated_deform_conv": SimpleNamespace(
        forward=_forward_mmcv_modulated,
        torch_equivalent=_torch_mmcv_modulated,
        TORCH_NOTE=TORCH_NOTE,
        bench_shapes=_bench_shapes_mmcv_modulated,
        bench_attrs=lambda shapes: {"padding": [1, 1]},
    ),
    "mmcv_deform_conv": SimpleNamespace(
        forward=_forward_mmcv,
        torch_equivalent=_torch_mmcv,
        TORCH_NOTE=TORCH_NOTE,
        bench_shapes=_bench_shapes_mmcv,
        bench_attrs=lambda shapes: {"padding": [1, 1]},
    ),
}
