"""STFT prototype (plugins/stft/spec.toml): frames of frame_length samples every frame_step
samples of a real or complex signal [batch, length, 1 or 2] (or real [batch, length]), times the window (ones when
absent), transformed (pyplugins.dft's transform), onesided keeping frame_length // 2 + 1 bins.
frame_step / frame_length are fields (the rewrite folds the constant inputs); an ONNX node's
inputs are read where still given. float32 throughout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.pyplugins.dft import transform

Attrs = Mapping[str, Any]
BENCH_SAMPLES = 16000 * 30  # `trtplug bench`: 30 s of 16 kHz audio per row (Whisper's frames)


def fields_of(inputs: Sequence[Any], attrs: Attrs) -> tuple[int, int, Any]:
    """(frame_step, frame_length, window or None): the fields, else an ONNX node's inputs (the
    plugin's are signal and window; the ONNX node's signal, frame_step, window, frame_length)."""
    scalars = [t for t in inputs[1:2] + inputs[3:4] if t is not None and getattr(t, "ndim", 1) == 0]
    window = next((t for t in inputs[1:3] if t is not None and getattr(t, "ndim", 0) == 1), None)
    step = int(attrs.get("frame_step", 0)) or (int(inputs[1]) if scalars and inputs[1] is scalars[0] else 0)
    length = int(attrs.get("frame_length", 0))
    if length <= 0 and len(inputs) > 3 and inputs[3] is not None:
        length = int(inputs[3])
    if length <= 0:
        length = int(window.shape[0]) if window is not None else int(inputs[0].shape[1])
    if step < 1:
        raise ValueError(f"frame_step must be >= 1, got {step}")
    return step, length, window


def output_shapes(inputs: Sequence[Any], attrs: Attrs) -> list[tuple[int, ...]]:
    step, length, _ = fields_of(inputs, attrs)
    batch, samples = inputs[0].shape[:2]
    frames = max(0, 1 + (samples - length) // step) if samples >= length else 0
    bins = length // 2 + 1 if attrs.get("onesided", 1) else length
    return [(batch, frames, bins, 2)]


def output_dims(inputs: Sequence[Any], attrs: Attrs, builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions: the plugin's inputs are signal and window, its frame_step and
    frame_length fields. frames = max(0, 1 + (samples - length) // step), kept non-negative."""
    step, length = int(attrs["frame_step"]), int(attrs.get("frame_length", 0))
    signal, window = inputs[0], inputs[1] if len(inputs) > 1 else None
    if step < 1:
        raise ValueError(f"frame_step must be >= 1, got {step}")
    if length <= 0:
        length = window[0] if window is not None else signal[1]
    batch, samples = signal[0], signal[1]
    frames = ((samples + step).maximum(length) - length) // step
    bins = length // 2 + 1 if attrs.get("onesided", 1) else length
    return [(batch, frames, bins, 2)]


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    y = outputs[0]
    if y.size == 0:
        return
    step, length, window = fields_of(inputs, attrs)
    x = inputs[0].astype("float32")
    x = x[..., None] if x.ndim == 2 else x
    frames = y.shape[1]
    starts = xp.arange(frames) * step
    index = starts[:, None] + xp.arange(length)[None, :]  # [frames, length]
    framed = x[:, index, :]  # [batch, frames, length, comps]
    if window is not None:
        framed = framed * xp.asarray(window, dtype="float32")[:, None]
    fields = {"axis": 2, "inverse": 0, "onesided": int(attrs.get("onesided", 1)), "dft_length": length}
    y[...] = transform(xp, framed, fields).astype(y.dtype)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """torch.stft(center=False, return_complex=True) of the same frames, in ONNX's layout."""
    step, length, window = fields_of(inputs, attrs)
    x = inputs[0]
    x = x[..., None] if x.ndim == 2 else x
    signal = x[..., 0].float() if x.shape[-1] == 1 else torch.view_as_complex(x.float().contiguous())
    spec = torch.stft(
        signal,
        n_fft=length,
        hop_length=step,
        window=None if window is None else window.float(),
        center=False,
        onesided=bool(attrs.get("onesided", 1)) and x.shape[-1] == 1,
        return_complex=True,
    )
    return torch.view_as_real(spec.transpose(1, 2))


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Whisper framing (hop 160, 400-sample frames): the spectrum is ~2.5x the signal, so the
    signal takes a quarter of the request and the whole op about its size."""
    batch = max(1, nbytes // itemsize // BENCH_SAMPLES // 4)
    return {"signal": (batch, BENCH_SAMPLES, 1), "window": (400,)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"onesided": 1, "frame_step": 160, "frame_length": 400}
