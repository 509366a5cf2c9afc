"""DFT prototypes (plugins/dft/spec.toml), one per family member (opset 17: axis attribute,
default 1; opset 20: axis input, default -2; the rewrite folds both and dft_length into fields).

Real input [..., 1] or complex [..., 2] (re, im). Forward: the FFT of the signal zero-padded or
cut to n = dft_length along `axis`, onesided keeping n // 2 + 1 bins. Inverse: the inverse FFT
scaled by 1 / n; inverse onesided reads a half spectrum and returns the real signal (irfft,
output [..., 1], n defaulting to 2 (m - 1)), as onnx.reference defines it. float32 throughout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

Attrs = Mapping[str, Any]
FOLDED = ("dft_length", "axis")  # inputs 1..2, which the rewrite folds into these fields
BENCH_LENGTH = 4096  # `trtplug bench` transforms rows of this length (real input, onesided)
TORCH_NOTE = "fp16: torch.fft in fp16 (cuFFT's half transform) at power-of-two lengths, else in fp32"
# cuFFT's half transform rounds its stages to fp16: against the float32 transform it falls outside
# 10x the fp16 tolerance at this length (the bench still times it: it is what torch users run).
TORCH_UNCHECKED = {
    "float16": "cuFFT's half transform, fp16 stages: 1788 of 134M outputs beyond 10x the fp16 tolerance "
    "(17.0 vs 16.09; H100, n = 4096)"
}


def with_folded(inputs: Sequence[Any], attrs: Attrs) -> dict[str, Any]:
    """The fields, taking dft_length/axis from inputs 1..2 where an ONNX node still gives them."""
    fields = dict(attrs)
    for name, tensor in zip(FOLDED, inputs[1:3], strict=False):
        if tensor is not None and getattr(tensor, "size", 0):
            fields[name] = int(np.asarray(tensor.tolist()).reshape(-1)[0])
    return fields


def plan(shape: Sequence[int], attrs: Attrs) -> tuple[int, int]:
    """(axis in [0, rank - 2], transform length n); ValueError on an axis naming the re/im axis."""
    rank = len(shape)
    axis = int(attrs["axis"])
    if not -rank <= axis < rank or axis % rank == rank - 1:
        raise ValueError(f"axis {axis} is out of range for input rank {rank} (the last axis holds re/im)")
    axis %= rank
    n = int(attrs.get("dft_length", 0))
    if n <= 0:
        n = 2 * (shape[axis] - 1) if attrs["inverse"] and attrs["onesided"] else shape[axis]
    return axis, n


def output_shapes(inputs: Sequence[Any], attrs: Attrs) -> list[tuple[int, ...]]:
    return transformed_shape(tuple(inputs[0].shape), with_folded(inputs, attrs))


def output_dims(inputs: Sequence[Any], attrs: Attrs, builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions (the plugin's dft_length/axis are fields)."""
    return transformed_shape(tuple(inputs[0]), attrs)


def transformed_shape(shape: tuple[Any, ...], attrs: Attrs) -> list[tuple[Any, ...]]:
    axis, n = plan(shape, attrs)
    out = list(shape)
    if attrs["inverse"] and attrs["onesided"]:
        out[axis], out[-1] = n, 1
    else:
        out[axis], out[-1] = (n // 2 + 1 if attrs["onesided"] else n), 2
    return [tuple(out)]


def transform(xp: ModuleType, x: Any, attrs: Attrs) -> Any:
    """The output array (float32, [..., 1] or [..., 2]) of DFT on x."""
    axis, n = plan(x.shape, attrs)
    x = x.astype("float32")
    signal = x[..., 0] if x.shape[-1] == 1 else x[..., 0] + 1j * x[..., 1].astype("complex64")
    signal = signal.astype("complex64")
    if attrs["inverse"] and attrs["onesided"]:
        return xp.fft.irfft(signal, n=n, axis=axis).astype("float32")[..., None]
    if attrs["inverse"]:
        spectrum = xp.fft.ifft(signal, n=n, axis=axis)
    else:
        spectrum = xp.fft.fft(signal, n=n, axis=axis)
        if attrs["onesided"]:
            spectrum = xp.take(spectrum, xp.arange(n // 2 + 1), axis=axis)
    return xp.stack([spectrum.real, spectrum.imag], axis=-1).astype("float32")


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    y = outputs[0]
    if y.size == 0:
        return
    attrs = with_folded(inputs, attrs)
    if inputs[0].size == 0:  # a zero-length signal padded to dft_length: all zeros
        y[...] = 0
        return
    y[...] = transform(xp, inputs[0], attrs).astype(y.dtype)


def torch_signal(torch: ModuleType, x: Any, attrs: Attrs) -> Any:
    """x as torch.fft takes it for the transform `attrs` name: float16 where torch runs cuFFT's
    half transform (power-of-two n, its fastest there), else float32 (torch.fft has no bf16 and
    half only at powers of two)."""
    _, n = plan(tuple(x.shape), attrs)
    half = x.dtype == torch.float16 and n >= 2 and n & (n - 1) == 0
    x = x if half else x.float()
    return x[..., 0] if x.shape[-1] == 1 else torch.view_as_complex(x.contiguous())


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """torch.fft.fft / rfft / ifft / irfft of the same signal, returned as view_as_real."""
    x = inputs[0]
    attrs = with_folded(inputs, attrs)
    axis, n = plan(tuple(x.shape), attrs)
    signal = torch_signal(torch, x, attrs)
    if attrs["inverse"] and attrs["onesided"]:
        return torch.fft.irfft(signal, n=n, dim=axis).unsqueeze(-1)
    # ifft of a real signal comes back as a lazily conjugated view, which view_as_real refuses.
    if attrs["inverse"]:
        return torch.view_as_real(torch.fft.ifft(signal, n=n, dim=axis).resolve_conj())
    if attrs["onesided"] and x.shape[-1] == 1:
        return torch.view_as_real(torch.fft.rfft(signal, n=n, dim=axis).resolve_conj())
    full = torch.view_as_real(torch.fft.fft(signal, n=n, dim=axis).resolve_conj())
    return full.narrow(axis, 0, n // 2 + 1) if attrs["onesided"] else full


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Real rows of BENCH_LENGTH samples filling nbytes, transformed along axis 1."""
    return {"input": (max(1, nbytes // itemsize // BENCH_LENGTH), BENCH_LENGTH, 1)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"inverse": 0, "onesided": 1, "dft_length": 0, "axis": 1}


def _member() -> SimpleNamespace:
    return SimpleNamespace(
        forward=forward,
        output_shapes=output_shapes,
        output_dims=output_dims,
        torch_equivalent=torch_equivalent,
        torch_signal=torch_signal,  # torch's layout and type of a signal (benchmarks/bench_fft.py)
        TORCH_NOTE=TORCH_NOTE,
        TORCH_UNCHECKED=TORCH_UNCHECKED,
        bench_shapes=bench_shapes,
        bench_attrs=bench_attrs,
    )


members = {"dft_17": _member(), "dft_20": _member()}
