"""The rows of a merged `trtplug bench` document (benchmarks/merge_bench_runs.py --json) that miss
issue 20's targets: at the largest size each op ran, the CUDA launcher's share of the device copy
rate (>= 90% for the memory-bound ops) and its ratio to torch (>= 1.0x wherever torch has the op;
a memory-bound row at 90% of copy only ties torch there).
Ops whose floor is not their traffic (matrix math, FFTs, random gathers, sorting) are judged by the
torch ratio alone; COMPUTE_BOUND names them and why. Prints a markdown table; not a test.

    python benchmarks/bench_misses.py bench-ops.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COPY_TARGET = 0.90
TORCH_TARGET = 1.0

COMPUTE_BOUND = {
    "bert_attention": "attention: FLOPs",
    "multi_head_attention": "attention: FLOPs",
    "onnx_attention": "attention: FLOPs",
    "group_query_attention": "attention: FLOPs",
    "linear_attention": "recurrent state updates",
    "matmul_nbits": "GEMM at the bench's M",
    "moe": "expert GEMMs",
    "qmoe": "expert GEMMs",
    "det": "LU per matrix",
    "inverse": "LU per matrix",
    "onnx_deform_conv": "im2col GEMM",
    "mmcv_deform_conv": "im2col GEMM",
    "mmcv_modulated_deform_conv": "im2col GEMM",
    "dft_17": "FFT (cuFFT)",
    "dft_20": "FFT (cuFFT)",
    "stft": "FFT (cuFFT)",
    "mel_weight_matrix": "writes a small table",
    "unique": "sort",
    "onnx_grid_sample": "random gathers",
    "mmcv_grid_sampler": "random gathers",
    "onnx_roi_align": "gathers per bin",
    "onnx_roi_align_opset10": "gathers per bin",
    "mmcv_roi_align": "gathers per bin",
}


def misses(rows: list[dict]) -> list[tuple[str, str, int, float, float | None, str]]:
    """(op, dtype, MB, % of copy, x torch, what is missed) for each CUDA row at its op's largest size."""
    largest: dict[str, int] = {}
    for r in rows:
        largest[r["op"]] = max(largest.get(r["op"], 0), r["size_mb"])
    found = []
    for r in rows:
        if r["impl"] != "cuda" or r["size_mb"] != largest[r["op"]]:
            continue
        missed = []
        memory_bound = r["op"] not in COMPUTE_BOUND
        at_roofline = memory_bound and r["copy_fraction"] >= COPY_TARGET
        if memory_bound and not at_roofline:
            missed.append(f"copy < {COPY_TARGET:.0%}")
        if r["vs_torch"] is not None and r["vs_torch"] < TORCH_TARGET and not at_roofline:  # a tie at the roofline
            missed.append(f"torch < {TORCH_TARGET:.1f}x")
        if missed:
            found.append((r["op"], r["dtype"], r["size_mb"], r["copy_fraction"], r["vs_torch"], ", ".join(missed)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", type=Path, help="a merged bench document (JSON)")
    args = parser.parse_args(argv)
    try:
        rows = json.loads(args.document.read_text())["timings"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"bench_misses: {args.document}: not a bench document ({exc})", file=sys.stderr)
        return 2
    print("| op | dtype | MB | % of copy | x torch | missed | bound by |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for op, dtype, mb, copy, torch, missed in misses(rows):
        ratio = "-" if torch is None else f"{torch:.2f}"
        bound = COMPUTE_BOUND.get(op, "traffic")
        print(f"| {op} | {dtype} | {mb} | {100 * copy:.0f}% | {ratio} | {missed} | {bound} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
