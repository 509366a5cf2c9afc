"""DFT and STFT (issue 18) against torch.fft / torch.stft: the CUDA launcher the plugins run (pack -> cuFFT -> unpack,
pack/unpack skipped where the layout already is cuFFT's), median of CUDA-event timings after
warm-up (BATCH calls back to back per timing, as under TensorRT's enqueue), inputs rotated
across two buffer sets. Both sides use cuFFT; the target is ours <= 1.2x torch's time. torch
gets the same signal in its own layout (a complex tensor for complex input), in float16 for the
fp16 rows at power-of-two lengths (cuFFT's half transform, as ours), else in float32 (torch.fft
takes fp16 only at power-of-two lengths, bf16 never). The fp16 rows run twice: ours in float32
(the default) and on cuFFT's 16-bit plans (TRTPLUG_DFT_16BIT=1, where they apply: torch.fft's fp16
accuracy, outside the fp16 tolerance, hence opt-in). bf16 (16-bit plans by default) is timed by
`trtplug bench`. Not a test; prints a table.

    python benchmarks/bench_fft.py [--mib 64] [filters...]
"""

from __future__ import annotations

import argparse
import os
import sys

from trtplug.bench.timing import time_ms

BATCH = 10  # calls per timed batch
TARGET = 1.2  # ours / torch time, at most


def cases(elements: int) -> list[tuple[str, tuple[int, ...], dict]]:
    """(name, input shape, fields) of about `elements` input values each."""

    def rows(n: int, comps: int) -> int:
        return max(1, elements // (n * comps))

    return [
        ("rfft n=4096", (rows(4096, 1), 4096, 1), {"onesided": 1}),
        ("fft real n=4096 (full)", (rows(4096, 1), 4096, 1), {}),
        ("fft complex n=4096", (rows(4096, 2), 4096, 2), {}),
        ("ifft complex n=4096", (rows(4096, 2), 4096, 2), {"inverse": 1}),
        ("irfft n=4096", (rows(2049, 2), 2049, 2), {"inverse": 1, "onesided": 1}),
        ("rfft n=1000", (rows(1000, 1), 1000, 1), {"onesided": 1}),
        ("rfft n=400 (STFT frames)", (rows(400, 1), 400, 1), {"onesided": 1}),
        ("fft complex n=97 (prime)", (rows(97, 2), 97, 2), {}),
        ("fft complex axis 1, inner 64", (rows(256 * 64, 2), 256, 64, 2), {}),
    ]


def measure(ext, torch, cp, prototype, shape, fields: dict, dtype: str) -> tuple[float, float, float]:
    """(ours ms, torch ms, max |ours - torch| relative to max |torch|)."""
    attrs = {"inverse": 0, "onesided": 0, "dft_length": 0, "axis": 1, **fields}
    xs = [cp.random.standard_normal(shape, dtype=cp.float32).astype(dtype) for _ in range(2)]
    (out_shape,) = prototype.output_shapes(xs[:1], attrs)
    y = cp.empty(out_shape, dtype=dtype)
    # torch's own layout (a complex tensor for complex input), made outside the timing, in float16
    # where torch.fft takes it (power-of-two n), else float32
    txs = [prototype.torch_signal(torch, torch.as_tensor(x, device="cuda"), attrs) for x in xs]
    ops = {(0, 0): torch.fft.fft, (0, 1): torch.fft.rfft, (1, 0): torch.fft.ifft, (1, 1): torch.fft.irfft}
    torch_op = ops[(attrs["inverse"], attrs["onesided"])]
    if attrs["onesided"] and not attrs["inverse"] and shape[-1] == 2:
        torch_op = torch.fft.fft  # complex onesided: torch has no half-spectrum fft of complex input

    def ours(i: int) -> None:
        ext.dft_20([xs[i]], [y], attrs)

    def theirs(i: int):
        return torch_op(txs[i], dim=1)

    ours(0)
    expected = theirs(0)
    expected = (torch.view_as_real(expected) if expected.is_complex() else expected.unsqueeze(-1)).float()
    got = torch.as_tensor(y, device="cuda").float()
    expected = expected[:, : got.shape[1]]  # complex onesided: torch's full spectrum, cut
    error = float((got - expected).abs().max()) / max(float(expected.abs().max()), 1e-30) if y.size else 0.0
    return time_ms(cp, ours, 2, batch=BATCH), time_ms(cp, theirs, 2, batch=BATCH), error


def measure_stft(ext, torch, cp, batch: int, dtype: str) -> tuple[float, float, float]:
    """STFT of `batch` 30 s 16 kHz signals, Whisper's framing (400-sample Hann frames every 160,
    onesided) against torch.stft(center=False): (ours ms, torch ms, relative max error)."""
    samples, n_fft, hop = 16000 * 30, 400, 160
    xs = [cp.random.standard_normal((batch, samples, 1), dtype=cp.float32).astype(dtype) for _ in range(2)]
    window = cp.hanning(n_fft).astype(dtype)
    frames = 1 + (samples - n_fft) // hop
    y = cp.empty((batch, frames, n_fft // 2 + 1, 2), dtype=dtype)
    attrs = {"frame_step": hop, "frame_length": n_fft, "onesided": 1}
    txs = [torch.as_tensor(x, device="cuda")[..., 0].float() for x in xs]
    twindow = torch.as_tensor(window, device="cuda").float()

    def ours(i: int) -> None:
        ext.stft([xs[i], window], [y], attrs)  # frame_step/frame_length: fields

    def theirs(i: int):
        return torch.stft(txs[i], n_fft, hop, window=twindow, center=False, return_complex=True)

    ours(0)
    expected = torch.view_as_real(theirs(0).transpose(1, 2)).float()
    got = torch.as_tensor(y, device="cuda").float()
    error = float((got - expected).abs().max()) / max(float(expected.abs().max()), 1e-30)
    return time_ms(cp, ours, 2, batch=BATCH), time_ms(cp, theirs, 2, batch=BATCH), error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="float32 input size per case (default 64 MiB)")
    parser.add_argument("filters", nargs="*", help="only rows whose name contains one of these")
    args = parser.parse_args()
    try:
        import cupy as cp
        import torch
    except ImportError as exc:
        print(f"bench_fft: needs CuPy, torch and a CUDA GPU ({exc})", file=sys.stderr)
        return 2
    from trtplug.native import native_module
    from trtplug.parity.impl_base import pyplugin_module
    from trtplug.registry import load_registry

    ext = native_module()
    if ext is None or not hasattr(ext, "dft_20"):
        print("bench_fft: trtplug._native without dft_20 (rebuild with cuFFT: scripts/setup.sh)", file=sys.stderr)
        return 2
    prototype = pyplugin_module(load_registry().get("dft_20"))
    print(f"target: ours <= {TARGET}x torch.fft's time")
    print(f"{'case':44} {'ms':>8} {'torch ms':>9} {'x torch':>8} {'target':>7} {'rel err':>8}")
    for dtype, sixteen_bit in (("float32", "0"), ("float16", "0"), ("float16", "1")):
        os.environ["TRTPLUG_DFT_16BIT"] = sixteen_bit  # read per plan: cuFFT's 16-bit plans where they apply
        for name, shape, fields in cases((args.mib << 20) // 4):
            label = f"{dtype}{'/16-bit' if sixteen_bit == '1' else ''} {name} {'x'.join(map(str, shape))}"
            if args.filters and not any(f in label for f in args.filters):
                continue
            ms, torch_ms, error = measure(ext, torch, cp, prototype, shape, fields, dtype)
            ratio = ms / torch_ms
            verdict = "ok" if ratio <= TARGET else "MISS"
            print(f"{label:44} {ms:8.4f} {torch_ms:9.4f} {ratio:8.2f} {verdict:>7} {error:8.1e}", flush=True)
        label = f"{dtype} stft whisper 400/160 x8"
        if sixteen_bit == "0" and hasattr(ext, "stft") and (not args.filters or any(f in label for f in args.filters)):
            ms, torch_ms, error = measure_stft(ext, torch, cp, 8, dtype)
            verdict = "ok" if ms / torch_ms <= TARGET else "MISS"
            print(f"{label:44} {ms:8.4f} {torch_ms:9.4f} {ms / torch_ms:8.2f} {verdict:>7} {error:8.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
