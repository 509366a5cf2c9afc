"""Col2Im prototype (NumPy or CuPy): the columns of each block position summed back into the image.

input [N, C * K, L]: K = prod(block_shape) kernel offsets (row-major over the block axes), L =
block positions (row-major over the spatial axes). Offset k of position b lands at b * stride +
k * dilation - pad_begin per axis; one strided slice add per kernel offset, on a padded float32
image cropped at the end. The output shape comes from the values of image_shape and block_shape
(shape inputs for the plugin), so the caller allocates it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any


def attribute_lists(attrs: Mapping[str, Any], spatial: int) -> tuple[list[int], list[int], list[int]]:
    """dilations, pads (begin..., end...) and strides, empty ones as the ONNX defaults."""
    dilations = list(attrs["dilations"] or [1] * spatial)
    pads = list(attrs["pads"] or [0] * 2 * spatial)
    strides = list(attrs["strides"] or [1] * spatial)
    if len(dilations) != spatial or len(pads) != 2 * spatial or len(strides) != spatial:
        raise ValueError(f"dilations/pads/strides must have {spatial}/{2 * spatial}/{spatial} values")
    return dilations, pads, strides


def block_counts(image: Sequence[int], block: Sequence[int], attrs: Mapping[str, Any]) -> list[int]:
    """Block positions per spatial axis (0 where the dilated block does not fit the padded image)."""
    dilations, pads, strides = attribute_lists(attrs, len(block))
    spatial = len(block)
    counts = []
    for d in range(spatial):
        span = image[d] + pads[d] + pads[spatial + d] - dilations[d] * (block[d] - 1) - 1
        counts.append(max(0, span // strides[d] + 1))
    return counts


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, y = inputs[0], outputs[0]
    block = [int(v) for v in inputs[2].tolist()]
    spatial, image = len(block), list(y.shape[2:])
    dilations, pads, strides = attribute_lists(attrs, spatial)
    counts = block_counts(image, block, attrs)
    batch, channels = y.shape[:2]
    if x.shape != (batch, channels * math.prod(block), math.prod(counts)):
        raise ValueError(f"input shape {x.shape} does not fit image {image}, block {block}, {channels} channels")
    padded_image = [image[d] + pads[d] + pads[spatial + d] for d in range(spatial)]
    padded = xp.zeros((batch, channels, *padded_image), "float32")
    if x.size:
        columns = x.reshape(batch, channels, *block, *counts).astype("float32")
        for k in itertools.product(*map(range, block)):
            start = [k[d] * dilations[d] for d in range(spatial)]
            window = [slice(start[d], start[d] + strides[d] * (counts[d] - 1) + 1, strides[d]) for d in range(spatial)]
            padded[(slice(None), slice(None), *window)] += columns[(slice(None), slice(None), *k)]
    crop = [slice(pads[d], pads[d] + image[d]) for d in range(spatial)]
    y[...] = padded[(slice(None), slice(None), *crop)].astype(y.dtype)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """[N, C, *image_shape], C = input.shape[1] / prod(block_shape)."""
    image = [int(v) for v in inputs[1].tolist()]
    kernel = math.prod(int(v) for v in inputs[2].tolist())
    return [(inputs[0].shape[0], inputs[0].shape[1] // kernel, *image)]
