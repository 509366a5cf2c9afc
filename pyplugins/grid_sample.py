"""GridSample prototypes (plugins/grid_sample/spec.toml), one per member, keyed by op key:

- onnx_grid_sample:  ai.onnx GridSample (opset 16 mode names bilinear/bicubic, opset 20+
  linear/cubic; N-D), padded in onnx.reference's order;
- mmcv_grid_sampler: mmcv::grid_sampler (integer interpolation_mode / padding_mode), torch
  grid_sample's semantics.
The sampling itself is trtplug/protolib/grid_sampling.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib.grid_sampling import MODES, grid_sample

Attrs = Mapping[str, Any]
MMCV_MODES = ("bilinear", "nearest", "bicubic")
MMCV_PADDING = ("zeros", "border", "reflection")


def onnx_settings(attrs: Attrs) -> tuple[str, str, bool]:
    return MODES[attrs["mode"]], attrs["padding_mode"], bool(attrs["align_corners"])


def mmcv_settings(attrs: Attrs) -> tuple[str, str, bool]:
    mode = MODES[MMCV_MODES[int(attrs["interpolation_mode"])]]
    return mode, MMCV_PADDING[int(attrs["padding_mode"])], bool(attrs["align_corners"])


def output_shapes(inputs: Sequence[Any], attrs: Attrs) -> list[tuple[int, ...]]:
    """(N, C, *grid's spatial dimensions)."""
    x, grid = inputs[0], inputs[1]
    return [(x.shape[0], x.shape[1], *grid.shape[1:-1])]


def output_dims(inputs: Sequence[Any], attrs: Attrs, builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions (symbolic in the TensorRT plugin: trtplug.protoplugin)."""
    x, grid = inputs[0], inputs[1]
    return [(x[0], x[1], *grid[1:-1])]


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Volumetric: N=2, C=32, a cube of side s in and out with X of ~nbytes (64^3 at 64 MiB fp32)."""
    side = max(2, round((nbytes / itemsize / 64) ** (1 / 3)))
    return {"X": (2, 32, side, side, side), "grid": (2, side, side, side, 3)}


def _member(settings, order: str, torch_attrs) -> SimpleNamespace:
    def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
        mode, padding, align = settings(attrs)
        y = grid_sample(xp, inputs[0], inputs[1], mode, padding, align, order)
        outputs[0][...] = y.astype(outputs[0].dtype)

    def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
        mode, padding, align = settings(attrs)
        torch_mode = {"linear": "bilinear", "nearest": "nearest", "cubic": "bicubic"}[mode]
        return torch.nn.functional.grid_sample(
            inputs[0], inputs[1], mode=torch_mode, padding_mode=padding, align_corners=align
        )

    return SimpleNamespace(
        forward=forward,
        output_shapes=output_shapes,
        output_dims=output_dims,
        bench_shapes=bench_shapes,
        bench_attrs=lambda shapes: torch_attrs,
        torch_equivalent=torch_equivalent,
    )


members = {
    "onnx_grid_sample": _member(onnx_settings, "onnx", {"mode": "linear", "padding_mode": "zeros", "align_corners": 0}),
    "mmcv_grid_sampler": _member(
        mmcv_settings, "torch", {"interpolation_mode": 0, "padding_mode": 0, "align_corners": 0}
    ),
}
