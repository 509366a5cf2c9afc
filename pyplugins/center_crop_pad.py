"""CenterCropPad prototype: centred crop or zero pad of each axis to the output's length.

Offsets per axis: crop start (in - out) // 2, pad start (out - in) // 2. The output shape comes
from the values of `shape` (a shape input for the plugin), so the caller allocates it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.torch_host import host_ints


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, y = inputs[0], outputs[0]
    src, dst = [], []
    for n_in, n_out in zip(x.shape, y.shape, strict=True):
        keep = min(n_in, n_out)
        crop, pad = max(n_in - n_out, 0) // 2, max(n_out - n_in, 0) // 2
        src.append(slice(crop, crop + keep))
        dst.append(slice(pad, pad + keep))
    y[...] = 0
    y[tuple(dst)] = x[tuple(src)]


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """input_data's shape with the `axes` (default: all) set to the values of `shape`."""
    shape = list(inputs[0].shape)
    rank = len(shape)
    axes = list(attrs["axes"] or range(rank))
    for axis, n in zip(axes, inputs[1].ravel(), strict=True):
        shape[axis % rank] = int(n)
    return [tuple(shape)]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions; `shape` is a shape input: its values (symbolic in the plugin)."""
    shape = list(inputs[0])
    rank = len(shape)
    for axis, n in zip(list(attrs["axes"] or range(rank)), inputs[1], strict=True):
        shape[axis % rank] = n
    return [tuple(shape)]


BENCH_WIDTH, BENCH_CROPPED = 1024, 896  # rows of 1024 center-cropped to 896


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """A center crop of rows of 1024 to 896 (axes [-1]), ~nbytes of input."""
    return {"input_data": (max(1, nbytes // itemsize // BENCH_WIDTH), BENCH_WIDTH), "shape": (1,)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"axes": [-1]}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    return {"shape": np.array([BENCH_CROPPED], dtype=np.int64)}


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Traffic floor of a crop: the kept part read once, the output written once."""
    return 2 * shapes["input_data"][0] * BENCH_CROPPED * itemsize


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Slicing and F.pad (torch has no CenterCropPad)."""
    x = inputs[0]
    target = output_shapes([x, np.array(host_ints(inputs[1]))], attrs)[0]
    pads: list[int] = []
    for axis, (n_in, n_out) in enumerate(zip(x.shape, target, strict=True)):
        crop = max(n_in - n_out, 0) // 2
        x = x.narrow(axis, crop, min(n_in, n_out))
        pad = max(n_out - n_in, 0)
        pads = [pad // 2, pad - pad // 2, *pads]
    return torch.nn.functional.pad(x, pads).contiguous()
