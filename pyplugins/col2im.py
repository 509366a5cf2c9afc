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

import numpy as np

from trtplug.protolib.torch_host import host_ints


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


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions; image_shape and block_shape are shape inputs: their values."""
    return [(inputs[0][0], inputs[0][1] // math.prod(inputs[2]), *inputs[1])]


BENCH_CHANNELS, BENCH_SIDE = 64, 128  # 64 channels of 3 x 3 blocks over a 128 x 128 image, pad 1, stride 1


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Columns of 3 x 3 blocks (pad 1, stride 1: one block per pixel), batch sized to ~nbytes of input."""
    per_image = BENCH_CHANNELS * 9 * BENCH_SIDE * BENCH_SIDE * itemsize
    batch = max(1, round(nbytes / per_image))
    return {"input": (batch, BENCH_CHANNELS * 9, BENCH_SIDE * BENCH_SIDE), "image_shape": (2,), "block_shape": (2,)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"dilations": [1, 1], "pads": [1, 1, 1, 1], "strides": [1, 1]}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    return {"image_shape": np.array([BENCH_SIDE] * 2, np.int64), "block_shape": np.array([3, 3], np.int64)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """F.fold (2-D only), which takes image and block shapes as lists of ints."""
    image, block = host_ints(inputs[1]), host_ints(inputs[2])
    dilations, pads, strides = attribute_lists(attrs, len(image))
    return torch.nn.functional.fold(
        inputs[0], image, block, dilation=dilations, padding=pads[: len(image)], stride=strides
    )
