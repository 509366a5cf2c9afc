"""MelWeightMatrix prototype: [dft_length // 2 + 1, num_mel_bins] triangular mel filters.

The filter edges (num_mel_bins + 2 spectrogram bin indices) are computed on the host with exactly
onnx.reference's NumPy expressions (op_mel_weight_matrix.py: the mel bounds in float32 then
float64, the edges' Hertz values in float64, NumPy's float floor division), so an edge never
lands one bin off; the four scalars are read back from the device for that. The triangles are
then filled on the device: column i rises over [lo, c), is 1 at c and falls over (c, hi), lo, c,
hi = edges i, i + 1, i + 2, which is what the reference's two overlapping write loops leave.
num_mel_bins is the output's width (a shape input, not passed to enqueue); dft_length and
sample_rate arrive as data copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.protolib.torch_host import host_ints

OUTPUT_DTYPES = {1: "float32", 10: "float16", 16: "bfloat16"}  # output_datatype -> dtype name


def _host(value: Any) -> np.ndarray:
    """A scalar input on the host, 0-D (a TensorRT buffer of a 0-D tensor may arrive as [1])."""
    return np.asarray(value.get() if hasattr(value, "get") else value).reshape(())


def mel_edges(num_mel_bins: int, dft_length: Any, sample_rate: Any, lower: Any, upper: Any) -> np.ndarray:
    """The reference's frequency_bins (int64, num_mel_bins + 2), after checking the inputs.

    dft_length/sample_rate: host integer scalars; lower/upper: host float32 0-D arrays (their
    dtype matters: the reference computes the mel bounds in the edges' precision)."""
    dft, rate = int(dft_length), int(sample_rate)
    if num_mel_bins <= 0:
        raise ValueError(f"num_mel_bins must be >= 1, got {num_mel_bins}")
    if dft < 2:
        raise ValueError(f"dft_length must be >= 2, got {dft}")
    if rate <= 0:
        raise ValueError(f"sample_rate must be >= 1, got {rate}")
    if not (np.isfinite(lower) and np.isfinite(upper)):
        raise ValueError(f"lower_edge_hertz and upper_edge_hertz must be finite, got {lower} and {upper}")
    if lower < 0 or upper < lower:
        raise ValueError(f"need 0 <= lower_edge_hertz <= upper_edge_hertz, got {lower} and {upper}")
    # Exactly onnx.reference's expressions and operand types (do not simplify: the floor divide
    # below turns any rounding difference into a bin).
    low_mel = 2595 * np.log1p(lower / 700) / np.log(10)
    high_mel = 2595 * np.log1p(upper / 700) / np.log(10)
    bins = np.arange(0, num_mel_bins + 2)
    mel_step = (high_mel - low_mel) / bins.shape[0]
    hertz = 700 * np.expm1((bins * mel_step + low_mel) / 2595 * np.log(10))
    edges = (((np.asarray(dft_length) + 1) * hertz) // np.asarray(sample_rate)).astype(np.int64)
    last = max(int(edges[-2]), int(edges[-1]) - 1)  # the highest row the filters write
    if last > dft // 2:
        raise ValueError(
            f"upper_edge_hertz {upper} puts a filter in row {last}, past the {dft // 2 + 1} "
            f"spectrogram bins of dft_length {dft} at sample_rate {rate}"
        )
    return edges


def weights(xp: ModuleType, edges: Any, rows: int) -> Any:
    """float64 [rows, len(edges) - 2] triangles from the edges (the reference's loops, vectorised)."""
    e = xp.asarray(edges, dtype=xp.int64)
    lo, c, hi = e[:-2][None, :], e[1:-1][None, :], e[2:][None, :]
    j = xp.arange(rows, dtype=xp.int64)[:, None]
    rising = (j - lo).astype(xp.float64) / xp.maximum(c - lo, 1).astype(xp.float64)
    falling = (hi - j).astype(xp.float64) / xp.maximum(hi - c, 1).astype(xp.float64)
    out = xp.where((j >= lo) & (j < c), rising, 0.0)
    out = xp.where((j > c) & (j < hi), falling, out)
    return xp.where(j == c, 1.0, out)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    mels_input, dft_length, sample_rate, lower, upper = inputs
    out = outputs[0]
    rows, num_mel_bins = out.shape
    if mels_input is not None:  # None in the prototype plugin: a shape input, the output's width
        num_mel_bins = int(_host(mels_input))
    lower_h, upper_h = _host(lower).astype(np.float32), _host(upper).astype(np.float32)
    edges = mel_edges(num_mel_bins, _host(dft_length), _host(sample_rate), lower_h, upper_h)
    if out.shape != (int(_host(dft_length)) // 2 + 1, num_mel_bins):
        raise ValueError(
            f"output is {list(out.shape)} for num_mel_bins {num_mel_bins}, dft_length {int(_host(dft_length))}"
        )
    out[...] = weights(xp, edges, rows).astype(out.dtype)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """[dft_length // 2 + 1, num_mel_bins] from the values of the two shape inputs."""
    num_mel_bins, dft_length = int(_host(inputs[0])), int(_host(inputs[1]))
    if num_mel_bins <= 0 or dft_length < 2:
        raise ValueError(f"need num_mel_bins >= 1 and dft_length >= 2, got {num_mel_bins} and {dft_length}")
    return [(dft_length // 2 + 1, num_mel_bins)]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions: the shape inputs' values (0-D, so one value each)."""
    (num_mel_bins,), (dft_length,) = inputs[0], inputs[1]
    return [(dft_length // 2 + 1, num_mel_bins)]


BENCH_MELS, BENCH_RATE = 128, 48000
# The inputs are all 0-D, so the requested size lives in dft_length: bench_shapes (which gets
# nbytes) picks it and bench_inputs (which gets only the 0-D shapes) reads it back.
_bench = {"dft_length": 400}


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """128 mel bins of a DFT long enough for an output of ~nbytes."""
    rows = max(1, nbytes // (itemsize * BENCH_MELS))
    _bench["dft_length"] = max(2, 2 * (rows - 1))
    return {name: () for name in ("num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz")}


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    return {
        "num_mel_bins": np.array(BENCH_MELS, np.int64),
        "dft_length": np.array(_bench["dft_length"], np.int64),
        "sample_rate": np.array(BENCH_RATE, np.int64),
        "lower_edge_hertz": np.array(0.0, np.float32),
        "upper_edge_hertz": np.array(BENCH_RATE / 2, np.float32),
    }


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    # the output, written once: float32 (output_datatype's default) whatever the bench dtype
    return (_bench["dft_length"] // 2 + 1) * BENCH_MELS * 4


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """The same edges and triangles on torch (torchaudio's mel scale differs in its edges)."""
    mels, dft, rate = (host_ints(x)[0] for x in inputs[:3])
    lower, upper = (np.float32(_host(x.cpu().numpy())) for x in inputs[3:])
    edges = mel_edges(mels, dft, rate, np.asarray(lower), np.asarray(upper))
    return torch.from_numpy(weights(np, edges, dft // 2 + 1).astype(np.float32)).to(inputs[3].device)
