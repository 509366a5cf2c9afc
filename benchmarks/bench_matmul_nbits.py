"""MatMulNBits speed against issue 17's targets (int4, block 32, K = N = 4096), measured in one run:

- M = 1 (decode, the GEMV kernel): GB/s over the packed weights and scales, as a share of the
  device copy bandwidth measured here (target >= 80%). Weights rotate over enough copies to
  exceed the L2 cache, so each call reads them from memory as a decoder layer does. The rate is
  from the kernels' device time (profiler): a call from Python costs more host time than the
  kernel runs, so the per-call time, printed too, measures the host.
- M = 2048 (prefill: dequantize + cuBLAS): time against a bf16 torch.matmul of the same shape
  (target >= 0.7x), for bf16 and fp16 activations.

Runs the CUDA launcher through trtplug._native (the kernel the plugin runs); needs torch and a GPU.
    python benchmarks/bench_matmul_nbits.py [--k 4096] [--n 4096] [--prefill-rows 2048]
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from trtplug.bench.timing import events_ms, kernel_times_us

BLOCK = 32
L2_ROTATION_BYTES = 256 << 20


class Bf16View:
    """A torch bf16 CUDA tensor as trtplug's bindings read bf16 ("<V2", as ml_dtypes exports it)."""

    def __init__(self, tensor: Any) -> None:
        self.__cuda_array_interface__ = {
            "shape": tuple(tensor.shape),
            "typestr": "<V2",
            "data": (tensor.data_ptr(), False),
            "version": 3,
        }


def as_binding_array(torch: Any, tensor: Any) -> Any:
    return Bf16View(tensor) if tensor.dtype == torch.bfloat16 else tensor


def copy_gbs(torch: Any) -> float:
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = events_ms(torch, lambda _: dst.copy_(src), 20)
    return 2 * src.numel() / ms / 1e6


def weights(torch: Any, n: int, k: int, dtype: Any, copies: int) -> list[tuple[Any, Any]]:
    blocks = k // BLOCK
    return [
        (
            torch.randint(0, 256, (n, blocks, BLOCK // 2), dtype=torch.uint8, device="cuda"),
            (torch.rand(n, blocks, device="cuda") * 0.02 + 0.005).to(dtype),
        )
        for _ in range(copies)
    ]


def run_op(torch: Any, ext: Any, a: Any, w: tuple[Any, Any], y: Any, attrs: dict) -> None:
    arrays = [as_binding_array(torch, t) for t in (a, w[0], w[1])]
    ext.matmul_nbits(arrays, [as_binding_array(torch, y)], attrs, torch.cuda.current_stream())


def decode(torch: Any, ext: Any, k: int, n: int, copy: float) -> None:
    for gemv in ("original", "fast", "wave"):  # TRTPLUG_NBITS_GEMV picks the GEMV per launch
        os.environ["TRTPLUG_NBITS_GEMV"] = gemv
        print(f"decode GEMV: {gemv}")
        decode_with(torch, ext, k, n, copy)


def decode_with(torch: Any, ext: Any, k: int, n: int, copy: float) -> None:
    attrs = {"K": k, "N": n, "bits": 4, "block_size": BLOCK}
    per_copy = n * k // 2 + n * (k // BLOCK) * 2
    sets = weights(torch, n, k, torch.float16, max(2, L2_ROTATION_BYTES // per_copy))
    a = torch.randn(1, k, device="cuda", dtype=torch.float16)
    y = torch.empty(1, n, device="cuda", dtype=torch.float16)

    def call(i: int) -> None:
        run_op(torch, ext, a, sets[i % len(sets)], y, attrs)

    ms = events_ms(torch, call, 200)
    gbs = per_copy / ms / 1e6
    print(f"M=1 fp16   {ms * 1e3:8.2f} us per call, the host's work included ({gbs:.0f} GB/s)")
    # The kernel alone, as TensorRT's C++ enqueue (or a CUDA graph) launches it.
    kernels = kernel_times_us(torch, call, len(sets), reps=50)
    kernel_gbs = per_copy / sum(kernels.values()) / 1e3
    detail = ", ".join(f"{name[:40]} {us:.2f} us" for name, us in kernels.items())
    total = sum(kernels.values())
    print(f"M=1 fp16   kernels {total:6.2f} us  {kernel_gbs:7.0f} GB/s = {kernel_gbs / copy:.1%} of copy ({detail})")
    floor = same_size_copy_us(torch, sets)
    print(f"M=1 fp16   a device copy of the same packed weights and scales: {floor:.2f} us ({total / floor:.2f}x that)")
    read = same_size_read_us(torch, sets)
    print(f"M=1 fp16   a reduction reading the same bytes (torch.sum): {read:.2f} us ({total / read:.2f}x that)")


def same_size_copy_us(torch: Any, sets: list[tuple[Any, Any]]) -> float:
    """Device time of copying one set's packed weights and scales (rotating through the sets, as the
    GEMV reads them): what streaming this many bytes costs at this size, ramp and tail included,
    beside the large-buffer copy rate the target is stated in (a copy also writes them)."""
    targets = [(torch.empty_like(b), torch.empty_like(s)) for b, s in sets]

    def copy(i: int) -> None:
        (b, s), (tb, ts) = sets[i % len(sets)], targets[i % len(sets)]
        tb.copy_(b)
        ts.copy_(s)

    return sum(kernel_times_us(torch, copy, len(sets), reps=50).values())


def same_size_read_us(torch: Any, sets: list[tuple[Any, Any]]) -> float:
    """Device time of a torch reduction that reads one set's packed weights and scales once (as
    int64 words): a read-only floor for this many bytes at this size, beside the copy above,
    which also writes them."""
    words = [(b.view(torch.int64), s.view(torch.int16)) for b, s in sets]

    def read(i: int) -> None:
        b, s = words[i % len(words)]
        b.sum()
        s.sum()

    return sum(kernel_times_us(torch, read, len(sets), reps=50).values())


def prefill(torch: Any, ext: Any, k: int, n: int, m: int) -> None:
    attrs = {"K": k, "N": n, "bits": 4, "block_size": BLOCK}
    a16 = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    w16 = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    torch_ms = events_ms(torch, lambda _: torch.matmul(a16, w16.T), 50)
    tflops = 2 * m * n * k / torch_ms / 1e9
    print(f"M={m} torch.matmul bf16 {torch_ms * 1e3:8.1f} us ({tflops:.0f} TFLOP/s)")
    for dtype in (torch.bfloat16, torch.float16):
        ms = prefill_ms(torch, ext, a16.to(dtype), weights(torch, n, k, dtype, 1)[0], attrs)
        name = str(dtype).removeprefix("torch.")
        rate = 2 * m * n * k / ms / 1e9
        print(f"M={m} {name:8s} {ms * 1e3:8.1f} us ({rate:.0f} TFLOP/s) = {torch_ms / ms:.2f}x torch")


def prefill_ms(torch: Any, ext: Any, a: Any, w: tuple[Any, Any], attrs: dict) -> float:
    y = torch.empty(a.shape[0], attrs["N"], device="cuda", dtype=a.dtype)
    return events_ms(torch, lambda _: run_op(torch, ext, a, w, y, attrs), 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=4096)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--prefill-rows", type=int, default=2048)
    args = parser.parse_args()
    import torch

    from trtplug import native

    ext = native.native_module()
    if ext is None or not torch.cuda.is_available():
        raise SystemExit("needs a GPU, torch and the built trtplug._native")
    copy = copy_gbs(torch)
    print(f"{torch.cuda.get_device_name()}: device copy {copy:.0f} GB/s")
    decode(torch, ext, args.k, args.n, copy)
    prefill(torch, ext, args.k, args.n, args.prefill_rows)


if __name__ == "__main__":
    main()
