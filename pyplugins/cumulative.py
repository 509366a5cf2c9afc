"""CumSum / CumProd prototypes (plugins/cumulative/spec.toml), one per family member:

y[..., i, ...] = x[..., 0, ...] op ... op x[..., i, ...] along `axis` (a 0-D tensor, negative
counts from the end); exclusive leaves element i out (the first output is the identity, 0 or 1),
reverse scans from the end. Floats accumulate in float32, integers in their own type with
wraparound (as NumPy's and onnx.reference's scans do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib import gpu_scan
from trtplug.protolib.dtypes import is_bf16, on_float32_stand_ins
from trtplug.protolib.gpu_source import is_cupy

Attrs = Mapping[str, Any]
# shown on the bench's torch rows: torch's own 16-bit scans keep a 16-bit running value, which
# drifts outside fp16/bf16 tolerance over a 4096-long row
TORCH_NOTE = "16-bit: torch accumulates in fp32 (dtype=) and casts back, as the plugin does"
BENCH_ROW = 4096  # `trtplug bench` scans rows of this length along the last axis


def scan_axis(axis: Any, rank: int) -> int:
    """The axis a 0-D (or one-element) axis tensor names, in [0, rank); ValueError otherwise."""
    if int(axis.size) != 1:
        raise ValueError(f"axis must hold one value, got shape {tuple(axis.shape)}")
    value = int(axis.reshape(()))
    if not -rank <= value < rank:
        raise ValueError(f"axis {value} is out of range for rank {rank}")
    return value % rank


def scan(xp: ModuleType, x: Any, axis: int, attrs: Attrs, product: bool) -> Any:
    """The running sum or product of x along axis, in float32 (floats) or x's integer type."""
    acc = x.astype("float32") if x.dtype.kind == "f" or is_bf16(x) else x
    if attrs["reverse"]:
        acc = xp.flip(acc, axis)
    running = (xp.cumprod if product else xp.cumsum)(acc, axis=axis, dtype=acc.dtype)
    if attrs["exclusive"]:
        first = [slice(None)] * x.ndim
        first[axis] = slice(0, 1)
        head = (xp.ones_like if product else xp.zeros_like)(acc[tuple(first)])
        running = xp.concatenate([head, xp.take(running, xp.arange(x.shape[axis] - 1), axis=axis)], axis=axis)
    return xp.flip(running, axis) if attrs["reverse"] else running


def _scan_into(xp: ModuleType, x: Any, y: Any, axis: int, attrs: Attrs, product: bool) -> None:
    y[...] = scan(xp, x, axis, attrs, product).astype(y.dtype)


def _member(product: bool, torch_scan: str) -> SimpleNamespace:
    def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
        x, y = inputs[0], outputs[0]
        axis = scan_axis(inputs[1], x.ndim)
        flags = bool(attrs["exclusive"]), bool(attrs["reverse"])
        if is_cupy(xp) and gpu_scan.scan(xp, x, y, axis, *flags, product):
            return
        if x.size:
            on_float32_stand_ins(xp, [x], [y], lambda i, o: _scan_into(xp, i[0], o[0], axis, attrs, product))

    def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
        """What a torch user writes: torch.cumsum / torch.cumprod with flips for reverse and a
        shifted copy for exclusive (torch has neither option); 16-bit floats accumulate in
        float32 (dtype=), as the plugin does, and are cast back (TORCH_NOTE)."""
        x, axis = inputs[0], int(inputs[1])
        x = x.flip(axis) if attrs["reverse"] else x
        wide = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else None
        y = getattr(torch, torch_scan)(x, dim=axis, dtype=wide).to(x.dtype)
        if attrs["exclusive"]:
            y = torch.cat(
                [torch.full_like(x.narrow(axis, 0, 1), float(product)), y.narrow(axis, 0, x.shape[axis] - 1)], axis
            )
        return y.flip(axis) if attrs["reverse"] else y

    return SimpleNamespace(
        forward=forward,
        torch_equivalent=torch_equivalent,
        bench_shapes=bench_shapes,
        TORCH_NOTE=TORCH_NOTE,
        takes_bf16=True,  # bf16 arrives as Bf16Device on a GPU: the scan kernel reads and rounds it
    )


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Rows of BENCH_ROW elements filling nbytes, scanned along the last axis (the spec's random axis)."""
    return {"x": (max(1, nbytes // itemsize // BENCH_ROW), BENCH_ROW), "axis": ()}


members = {
    "cum_sum": _member(product=False, torch_scan="cumsum"),
    "cum_prod": _member(product=True, torch_scan="cumprod"),
}
