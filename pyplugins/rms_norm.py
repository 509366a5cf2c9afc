"""RMS-norm family prototypes (plugins/rms_norm/spec.toml), one per member, keyed by op key:

- simplified_layer_norm: ONNX Runtime's SimplifiedLayerNormalization (domain ""), outputs Y and
  the optional float32 inv_std_var (X's shape, normalized axes set to 1)
- rms_normalization:     ai.onnx RMSNormalization (opset 23), output Y

Both: Y = X / sqrt(mean(X^2) + epsilon) * scale over the axes from `axis` on, statistics in
float32 (trtplug/protolib/norm.py, shared with the skip norms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib import gpu_rows
from trtplug.protolib.dtypes import on_float32_stand_ins
from trtplug.protolib.gpu_source import is_cupy
from trtplug.protolib.norm import normalize_rows

Attrs = Mapping[str, Any]
BENCH_HIDDEN = 4096  # Llama's hidden size: the shape the speed target names


def _axis(x: Any, attrs: Attrs) -> int:
    return int(attrs["axis"]) % max(x.ndim, 1)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    """Rows x cols after flattening at `axis`; scale (cols elements, leading 1s allowed) per row.
    Takes bf16 (Bf16Device on a GPU) itself: the GPU fast path reads and rounds it."""
    x, scale = inputs[0], inputs[1]
    cols = math.prod(x.shape[_axis(x, attrs) :])
    wanted = [outputs[0], None, outputs[1] if len(outputs) > 1 else None]
    epsilon = float(attrs["epsilon"])
    if is_cupy(xp) and gpu_rows.row_norm(xp, (x, None, scale, None, None), cols, wanted, epsilon, rms=True):
        return
    on_float32_stand_ins(xp, list(inputs), list(outputs), lambda i, o: _normalize(xp, i, o, attrs))


def _normalize(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, scale = inputs[0], inputs[1]
    cols = math.prod(x.shape[_axis(x, attrs) :])
    rows = x.reshape(-1, cols).astype(xp.float32) if cols else xp.zeros((0, 1), dtype=xp.float32)
    gamma = scale.reshape(-1) if cols else xp.zeros((1,), dtype=xp.float32)
    y, _, inv_std_var = normalize_rows(xp, rows, gamma, None, float(attrs["epsilon"]), rms=True)
    outputs[0][...] = y.reshape(x.shape).astype(outputs[0].dtype)
    if len(outputs) > 1:
        outputs[1][...] = inv_std_var.reshape(outputs[1].shape)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """What a torch user writes: F.rms_norm over the same trailing axes."""
    x, scale = inputs[0], inputs[1]
    normalized = tuple(x.shape[_axis(x, attrs) :])
    return torch.nn.functional.rms_norm(x, normalized, scale.reshape(normalized), float(attrs["epsilon"]))


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Rows of Llama's hidden size filling `nbytes` of X."""
    rows = max(1, nbytes // itemsize // BENCH_HIDDEN)
    return {"X": (rows, BENCH_HIDDEN), "scale": (BENCH_HIDDEN,)}


_MEMBER = SimpleNamespace(
    forward=forward, torch_equivalent=torch_equivalent, bench_shapes=bench_shapes, takes_bf16=True
)
members = {"simplified_layer_norm": _MEMBER, "rms_normalization": _MEMBER}
