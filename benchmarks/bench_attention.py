"""Attention speed on the GPU machine: trtplug's attention core (through the GroupQueryAttention
launcher, the kernel the plugin runs) against torch's scaled_dot_product_attention with its
fastest backend, measured in the same run.

- prefill: batch 4 x 32 query heads x 4096 tokens x head 128, causal, GQA 32/8 and 32/32 (the
  launcher is causal: GroupQueryAttention has no bidirectional form here), a first prompt (no
  past), with the default backend (cuDNN where it loads) and the hand-written kernels; TFLOP/s
  counts the causal half of the 4 B N S^2 H multiply-adds, the ratio is torch time / trtplug time.
- decode: one new token onto a cache of 8k/16k/32k rows (batch 4, GQA 32/8, head 128). The op
  writes the grown present cache (separate past and present buffers, as TensorRT gives a plugin),
  so its floor is the cache read once and written once: the op's device time as a fraction of copy
  bandwidth over those 2 x K/V bytes, with the past copied inside the tensor-core decode (the
  default, TRTPLUG_ATTENTION_PAST_COPY=decode) and in a separate pass (=separate); then the core's
  decode kernels on a cache written once (as torch's SDPA reads it), without the L2 write-back of
  the lines the append has just dirtied: the decode kernel alone (the tensor-core one merges its
  key splits itself) and everything the core ran (its split counters' memset, or the separate
  combine kernel under TRTPLUG_ATTENTION_DECODE_COMBINE=kernel, shown for comparison).
- core prefill by backend: the same prefill shapes, causal and not, through the core directly with
  TRTPLUG_ATTENTION_PREFILL=kernel and =cudnn; "first call" is the wall time of the first call of
  each, which for cuDNN includes building its graph for that problem signature.

- --decode-splits N...: the tensor-core decode on a clean cache (8k/16k/32k) with its split count
  forced to each N (TRTPLUG_ATTENTION_DECODE_SPLITS; 0 = the launcher's own choice), for the split
  policy; nothing else runs.

- float32 (--dtype float32): the core prefill only, on tensor cores (3xTF32, the default) and on
  CUDA cores (TRTPLUG_ATTENTION_FP32=cuda-cores), against torch's fastest fp32 SDPA (its
  memory-efficient kernel or the math path).

    python benchmarks/bench_attention.py [--dtype float16|bfloat16|float32] [--reps N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from trtplug import native
from trtplug.bench.timing import kernel_times_us

BATCH, HEADS, HEAD = 4, 32, 128


def time_ms(fn: Callable[[], object], reps: int) -> float:
    for _ in range(3):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(reps):
        fn()
    stop.record()
    torch.cuda.synchronize()
    return start.elapsed_time(stop) / reps


def first_call_ms(fn: Callable[[], object]) -> float:
    """Wall time of one call and its kernels: for a new problem signature under cuDNN, that includes
    building and caching its graph (what the first prompt of a new length pays)."""
    torch.cuda.synchronize()
    began = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - began) * 1e3


def copy_gbs(reps: int) -> float:
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = time_ms(lambda: dst.copy_(src), reps)
    return 2 * src.numel() / ms / 1e6


def fastest_sdpa(q, k, v, causal: bool, reps: int) -> tuple[float, str]:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    best = (float("inf"), "none")
    backends = [SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]
    if q.dtype == torch.float32:  # the fused kernels take no fp32 but the memory-efficient one
        backends.append(SDPBackend.MATH)
    for backend in backends:
        try:
            with sdpa_kernel(backend):
                ms = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True), reps)
        except RuntimeError:
            continue
        best = min(best, (ms, backend.name))
    return best


class _Bf16View:
    """A contiguous torch bf16 tensor as the bindings read bf16: __cuda_array_interface__ "<V2"."""

    def __init__(self, tensor) -> None:
        self.tensor = tensor
        self.__cuda_array_interface__ = {
            "shape": tuple(tensor.shape),
            "typestr": "<V2",
            "data": (tensor.data_ptr(), False),
            "strides": None,
            "version": 3,
        }


def device_arrays(tensors):
    """What the binding takes: torch's own interface, or the "<V2" view for bf16 (torch has none)."""
    return [_Bf16View(t) if t.dtype == torch.bfloat16 else t for t in tensors]


def gqa_call(ext, dtype, seq: int, kv_heads: int, past: int):
    """The launcher on separate q/k/v with a past of `past` rows; returns a zero-argument runner."""
    dev = "cuda"
    q = torch.randn(BATCH, seq, HEADS * HEAD, dtype=dtype, device=dev)
    k = torch.randn(BATCH, seq, kv_heads * HEAD, dtype=dtype, device=dev)
    v = torch.randn_like(k)
    past_k = torch.randn(BATCH, kv_heads, past, HEAD, dtype=dtype, device=dev)
    past_v = torch.randn_like(past_k)
    total = past + seq
    seqlens = torch.full((BATCH,), total - 1, dtype=torch.int32, device=dev)
    total_t = torch.tensor(total, dtype=torch.int32, device=dev)
    out = torch.empty_like(q)
    present = [torch.empty(BATCH, kv_heads, total, HEAD, dtype=dtype, device=dev) for _ in range(2)]
    attrs = {"num_heads": HEADS, "kv_num_heads": kv_heads}
    stream = torch.cuda.current_stream()
    ins = device_arrays([q, k, v, past_k, past_v, seqlens, total_t])
    outs = device_arrays([out, *present])
    return lambda: ext.group_query_attention(ins, outs, attrs, stream), (q, k, v, past_k, past_v)


def heads_first(x, heads):
    return x.view(BATCH, -1, heads, HEAD).transpose(1, 2)


def prefill(ext, dtype, kv_heads: int, reps: int) -> None:
    seq = 4096
    run, (q, k, v, _, _) = gqa_call(ext, dtype, seq, kv_heads, 0)
    torch_ms, backend = fastest_sdpa(
        heads_first(q, HEADS), heads_first(k, kv_heads), heads_first(v, kv_heads), True, reps
    )
    flops = 4 * BATCH * HEADS * seq * seq * HEAD / 2
    line = f"prefill causal GQA {HEADS}/{kv_heads} S={seq}: torch[{backend}] {torch_ms:.3f} ms"
    for choice in ("auto", "kernel"):  # the default, then the hand-written kernels
        os.environ["TRTPLUG_ATTENTION_PREFILL"] = choice
        ours = time_ms(run, reps)
        took = ext.last_prefill_backend() if hasattr(ext, "last_prefill_backend") else "kernel"
        line += f" | op {choice}[{took}] {ours:.3f} ms {flops / ours / 1e9:.1f} TFLOP/s ratio {torch_ms / ours:.2f}x"
    os.environ.pop("TRTPLUG_ATTENTION_PREFILL", None)
    print(line)


PREFILL_SWITCH = "TRTPLUG_ATTENTION_PREFILL"


def prefill_backends(
    ext, dtype, kv_heads: int, causal: bool, reps: int, choices: tuple[str, ...], switch: str = PREFILL_SWITCH
) -> None:
    """The core itself (attention_bsnh, BSNH views, no per-batch lengths: what cuDNN takes) with each
    prefill backend (`switch` set per call: TRTPLUG_ATTENTION_PREFILL, or for float32
    TRTPLUG_ATTENTION_FP32) next to torch's fastest SDPA."""
    seq, dev = 4096, "cuda"
    q = torch.randn(BATCH, seq, HEADS, HEAD, dtype=dtype, device=dev)
    k = torch.randn(BATCH, seq, kv_heads, HEAD, dtype=dtype, device=dev)
    v = torch.randn_like(k)
    out = torch.empty_like(q)
    args = device_arrays([q, k, v, out])
    stream = torch.cuda.current_stream()
    torch_ms, backend = fastest_sdpa(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal, reps)
    flops = 4 * BATCH * HEADS * seq * seq * HEAD / (2 if causal else 1)
    line = f"core prefill {'causal' if causal else 'full'} GQA {HEADS}/{kv_heads}: torch[{backend}] {torch_ms:.3f} ms"

    def call():
        return ext.attention_bsnh(*args[:3], args[3], kv_heads, causal=causal, stream=stream)

    for choice in choices:
        os.environ[switch] = choice
        try:
            first = first_call_ms(call)
            ms = time_ms(call, reps)
        except RuntimeError as err:  # cudnn unavailable: the launch reports it
            line += f" | {choice}: {str(err).splitlines()[0][:60]}"
            continue
        took = ext.last_prefill_backend()
        line += f" | {choice}[{took}] {ms:.3f} ms {flops / ms / 1e9:.1f} TFLOP/s ratio {torch_ms / ms:.2f}x"
        line += f" (first call {first:.1f} ms)"
    os.environ.pop(switch, None)
    print(line)


def decode(ext, dtype, past: int, copy: float, reps: int) -> None:
    kv_heads = 8
    run, (q, k, v, past_k, past_v) = gqa_call(ext, dtype, 1, kv_heads, past)
    cache = torch.cat([past_k, heads_first(k, kv_heads)], 2), torch.cat([past_v, heads_first(v, kv_heads)], 2)
    copies = [torch.empty_like(c) for c in cache]
    append_ms = time_ms(lambda: [d.copy_(c) for d, c in zip(copies, cache, strict=True)], reps)  # the cache copy alone
    torch_ms, backend = fastest_sdpa(heads_first(q, HEADS), cache[0], cache[1], False, reps)
    kv_bytes = 2 * BATCH * kv_heads * (past + 1) * HEAD * q.element_size()
    print(
        f"decode GQA {HEADS}/{kv_heads} KV={past}: cache copy alone {append_ms:.3f} ms | "
        f"torch[{backend}] attention only {torch_ms:.3f} ms {kv_bytes / torch_ms / 1e6:.0f} GB/s"
    )
    for past_copy in ("decode", "separate"):  # TRTPLUG_ATTENTION_PAST_COPY, read per launch
        os.environ["TRTPLUG_ATTENTION_PAST_COPY"] = past_copy
        op_line(run, past_copy, kv_bytes, copy, reps)
    os.environ.pop("TRTPLUG_ATTENTION_PAST_COPY", None)
    combines = ("fused", "kernel") if os.environ.get("TRTPLUG_ATTENTION_DECODE") == "mma" else ("fused",)
    for combine in combines:  # TRTPLUG_ATTENTION_DECODE_COMBINE, read per launch
        os.environ["TRTPLUG_ATTENTION_DECODE_COMBINE"] = combine
        clean = clean_cache_decode_us(ext, dtype, kv_heads, past, reps)
        print(f"    on a clean cache, combine {combine}: " + bandwidth_line(clean, kv_bytes, copy))
    os.environ.pop("TRTPLUG_ATTENTION_DECODE_COMBINE", None)


def op_line(run: Callable[[], object], past_copy: str, kv_bytes: int, copy: float, reps: int) -> None:
    """The whole op (cache lengths, present written, attention), by wall time and device time. Its
    traffic floor is the cache read once and present written once (separate past and present
    buffers, as TensorRT gives a plugin): 2 x the K/V bytes, as a fraction of copy bandwidth."""
    wall_ms = time_ms(run, reps)
    kernels = kernel_times_us(torch, lambda _: run(), 1, reps)  # the profiler's split of the op's device time
    device_us = sum(kernels.values())
    attention_us = sum(us for name, us in kernels.items() if core_activity(name))
    print(
        f"    past copy {past_copy}: op {wall_ms:.3f} ms wall, {device_us:.1f} us device = "
        f"{2 * kv_bytes / device_us / 1e3 / copy:.2f} of copy over the cache read + present written | "
        f"attention kernels {attention_us:.1f} us"
    )
    print("      kernels: " + ", ".join(f"{short_name(name)[:40]} {us:.1f} us" for name, us in kernels.items()))


def core_activity(name: str) -> bool:
    """The core's GPU work in a decode: its kernels, and the memset of the fused combine's counters."""
    return "attention" in name or name.startswith("Memset")


def short_name(name: str) -> str:
    return name.split("::")[-1].split("<")[0].split("(")[0]


def bandwidth_line(times: dict[str, float], kv_bytes: int, copy: float) -> str:
    """The decode kernel alone, then all the core ran, each as a fraction of copy bandwidth."""
    decode_us = sum(us for name, us in times.items() if "Decode" in name)
    total_us = sum(times.values())
    parts = ", ".join(f"{short_name(name)} {us:.1f}" for name, us in times.items())

    def of_copy(us: float) -> str:
        return f"{kv_bytes / us / 1e3 / copy:.2f} of copy" if us > 0 else "n/a"

    decode = f"decode kernel {decode_us:.1f} us = {of_copy(decode_us)}"
    return f"{decode} | all {total_us:.1f} us = {of_copy(total_us)} ({parts})"


def clean_cache_decode_us(ext, dtype, kv_heads: int, past: int, reps: int) -> dict[str, float]:
    """The core's decode work (device us per name: the decode kernel, the combine kernel or the
    counters' memset) on a cache that was written once, as torch's SDPA reads one: inside the op, the
    append has just written present, and the decode pays for the write-back of the dirty lines it
    evicts from L2 (up to L2's size of extra traffic)."""
    if not hasattr(ext, "attention_bsnh"):
        return {}
    q = torch.randn(BATCH, 1, HEADS, HEAD, dtype=dtype, device="cuda")
    k = torch.randn(BATCH, past + 1, kv_heads, HEAD, dtype=dtype, device="cuda")
    v = torch.randn_like(k)
    out = torch.empty_like(q)
    args = device_arrays([q, k, v, out])
    stream = torch.cuda.current_stream()
    kernels = kernel_times_us(torch, lambda _: ext.attention_bsnh(*args, kv_heads, stream=stream), 1, reps)
    return {name: us for name, us in kernels.items() if core_activity(name)}


def split_sweep(ext, dtype, splits: list[int], copy: float, reps: int) -> None:
    """The tensor-core decode on a clean cache with its split count forced to each of `splits`."""
    os.environ["TRTPLUG_ATTENTION_DECODE"] = "mma"
    for past in (8192, 16384, 32768):
        kv_bytes = 2 * BATCH * 8 * (past + 1) * HEAD * torch.empty((), dtype=dtype).element_size()
        for count in splits:
            os.environ["TRTPLUG_ATTENTION_DECODE_SPLITS"] = str(count)
            times = clean_cache_decode_us(ext, dtype, 8, past, reps)
            print(f"decode KV={past} splits {count or 'auto'}: " + bandwidth_line(times, kv_bytes, copy), flush=True)
    os.environ.pop("TRTPLUG_ATTENTION_DECODE_SPLITS", None)
    os.environ.pop("TRTPLUG_ATTENTION_DECODE", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float16", choices=["float16", "bfloat16", "float32"])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--decode-only", action="store_true", help="skip the prefill rows (e.g. under ncu)")
    parser.add_argument("--decode-kernels", nargs="+", default=["key-parallel", "mma"], choices=["key-parallel", "mma"])
    parser.add_argument("--decode-splits", nargs="+", type=int, help="sweep the tensor-core decode's split count")
    args = parser.parse_args()
    ext = native.native_module()
    if ext is None or "group_query_attention" not in ext.ops:
        raise SystemExit("trtplug._native with group_query_attention is not built (bash scripts/setup.sh)")
    dtype = getattr(torch, args.dtype)
    copy = copy_gbs(args.reps)
    print(f"{torch.cuda.get_device_name()}: device copy {copy:.0f} GB/s, {args.dtype}")
    if args.decode_splits:
        return split_sweep(ext, dtype, args.decode_splits, copy, args.reps)
    if dtype == torch.float32:  # the core's prefill on tensor cores (3xTF32) and on CUDA cores
        for kv_heads in (8, 32):
            for causal in (True, False):
                choices = ("tensor-cores", "cuda-cores")
                prefill_backends(ext, dtype, kv_heads, causal, args.reps, choices, "TRTPLUG_ATTENTION_FP32")
        return
    for kv_heads in () if args.decode_only else (8, 32):
        prefill(ext, dtype, kv_heads, args.reps)
    if hasattr(ext, "attention_bsnh") and not args.decode_only:
        print(f"cuDNN backend: compiled {ext.cudnn_attention_compiled()}, loadable {ext.cudnn_attention_available()}")
        for kv_heads in (8, 32):
            for causal in (True, False):
                prefill_backends(ext, dtype, kv_heads, causal, args.reps, ("kernel", "cudnn"))
    for kernel in args.decode_kernels:  # TRTPLUG_ATTENTION_DECODE picks the decode kernel per launch
        os.environ["TRTPLUG_ATTENTION_DECODE"] = kernel
        print(f"decode kernel: {kernel}")
        for past in (8192, 16384, 32768):
            decode(ext, dtype, past, copy, args.reps)


if __name__ == "__main__":
    main()
