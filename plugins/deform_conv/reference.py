"""NumPy reference of mmcv's deformable convolutions (ONNX Runtime has no mmcv ops), written from
mmcv's documented semantics: DCNv1 (MMCVDeformConv2d) and DCNv2 (MMCVModulatedDeformConv2d).

offset [N, deform_groups * 2 * kH * kW, oH, oW] holds (dy, dx) pairs per kernel point (row-major
over the kernel) per deform group; mask [N, deform_groups * kH * kW, oH, oW] scales each sample.
A sample at (py, px) is the bilinear blend of its four neighbours, a neighbour outside the image
counting as 0. Float64, one output pixel's kernel point at a time over the whole batch; independent
of the vectorised prototype in pyplugins/deform_conv.py."""

from __future__ import annotations

from typing import Any

import numpy as np


def _bilinear(image: np.ndarray, py: np.ndarray, px: np.ndarray) -> np.ndarray:
    """image [N, C, H, W], py/px [N]: the samples [N, C]."""
    height, width = image.shape[2:]
    y0, x0 = np.floor(py), np.floor(px)
    total = np.zeros(image.shape[:2])
    for dy in (0, 1):
        for dx in (0, 1):
            yy, xx = (y0 + dy).astype(np.int64), (x0 + dx).astype(np.int64)
            weight = (1 - np.abs(py - yy)) * (1 - np.abs(px - xx))
            inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
            rows = np.arange(image.shape[0])
            values = image[rows, :, np.clip(yy, 0, height - 1), np.clip(xx, 0, width - 1)]
            total += np.where(inside, weight, 0.0)[:, None] * values
    return total


def deform_conv(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    weight: np.ndarray,
    attrs: dict[str, Any],
) -> np.ndarray:
    (sh, sw), (ph, pw), (dh, dw) = attrs["stride"], attrs["padding"], attrs["dilation"]
    groups, deform_groups = int(attrs["groups"]), int(attrs["deform_groups"])
    batch, channels = x.shape[:2]
    out_channels, group_channels, kh, kw = weight.shape
    out_h, out_w = offset.shape[2:]
    per_deform = channels // deform_groups
    per_out = out_channels // groups
    y = np.zeros((batch, out_channels, out_h, out_w))
    for oy in range(out_h):
        for ox in range(out_w):
            for i in range(kh):
                for j in range(kw):
                    k = i * kw + j
                    for g in range(deform_groups):
                        dy = offset[:, g * 2 * kh * kw + 2 * k, oy, ox]
                        dx = offset[:, g * 2 * kh * kw + 2 * k + 1, oy, ox]
                        py = oy * sh - ph + i * dh + dy
                        px = ox * sw - pw + j * dw + dx
                        chans = slice(g * per_deform, (g + 1) * per_deform)
                        samples = _bilinear(x[:, chans], py, px)
                        if mask is not None:
                            samples = samples * mask[:, g * kh * kw + k, oy, ox][:, None]
                        for c in range(g * per_deform, (g + 1) * per_deform):
                            conv_group = c // group_channels
                            outs = slice(conv_group * per_out, (conv_group + 1) * per_out)
                            y[:, outs, oy, ox] += (
                                samples[:, c - g * per_deform, None] * weight[outs, c % group_channels, i, j]
                            )
    return y


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    as64 = {name: value.astype(np.float64) for name, value in inputs.items() if value is not None}
    y = deform_conv(as64["input"], as64["offset"], as64.get("mask"), as64["weight"], attrs)
    if "bias" in as64:
        y += as64["bias"][None, :, None, None]
    return [y]
