"""AffineGrid prototype: grid[n, (d,) h, w] = theta[n] @ (x_w, y_h, (z_d,) 1), base coordinates in [-1, 1].

align_corners: -1 + 2i / (L - 1) (-1 when L == 1), else -1 + (2i + 1) / L. The output shape
comes from the values of `size` (a shape input for the plugin), so the caller allocates it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.torch_host import host_ints


def base_coordinates(xp: ModuleType, length: int, align_corners: bool) -> Any:
    i = xp.arange(length, dtype=xp.float32)
    if align_corners:
        return i * (2.0 / (length - 1)) - 1.0 if length > 1 else xp.full(length, -1.0, dtype=xp.float32)
    return (2.0 * i + 1.0) / length - 1.0


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    theta = inputs[0].astype(xp.float32)
    grid = outputs[0]
    spatial = grid.shape[1:-1]  # (H, W) or (D, H, W)
    align = bool(attrs["align_corners"])
    axes = [base_coordinates(xp, n, align) for n in spatial]
    mesh = xp.meshgrid(*axes, indexing="ij")  # per axis, in (D,) H, W order
    homogeneous = xp.stack([*reversed(mesh), xp.ones(spatial, dtype=xp.float32)], axis=-1)  # x, y, (z,) 1
    points = homogeneous.reshape(-1, len(spatial) + 1)
    result = xp.einsum("nij,pj->npi", theta, points).reshape(grid.shape)
    grid[...] = result.astype(grid.dtype)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """size (N, C, H, W) -> (N, H, W, 2); (N, C, D, H, W) -> (N, D, H, W, 3)."""
    size = [int(v) for v in inputs[1].ravel()]
    return [(size[0], *size[2:], len(size) - 2)]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions; `size` is a shape input: its values (symbolic in the plugin)."""
    size = list(inputs[1])
    return [(size[0], *size[2:], len(size) - 2)]


BENCH_SIDE = 512  # a 512 x 512 grid per image: the size torch's affine_grid is usually quoted at


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """2-D grids of 512 x 512, batch sized to ~nbytes of grid."""
    batch = max(1, nbytes // (BENCH_SIDE * BENCH_SIDE * 2 * itemsize))
    return {"theta": (batch, 2, 3), "size": (4,)}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    return {"size": np.array([shapes["theta"][0], 3, BENCH_SIDE, BENCH_SIDE], dtype=np.int64)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """F.affine_grid, which takes the size as a list of ints."""
    size = list(host_ints(inputs[1]))
    return torch.nn.functional.affine_grid(inputs[0], size, align_corners=bool(attrs["align_corners"]))
