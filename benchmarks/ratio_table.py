"""Shared runner of the vision-op benchmarks (bench_grid_sample.py, bench_roi_align.py): each row
is (name, bytes, ours(i), torch(i), max_error()); prints ours and torch's median CUDA-event times
(BATCH calls between two events, inputs rotated over two buffers), GB/s over `bytes`, the ratio
torch / ours and the largest difference of the two outputs. Not a test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from trtplug.bench.timing import time_ms

BATCH = 10
Row = tuple[str, int, Callable[[int], Any], Callable[[int], Any], Callable[[], float]]


def run_table(script: str, op: str, rows: Callable[[Any, Any, Any], Iterable[Row]]) -> int:
    try:
        import cupy as cp
        import torch
    except ImportError as exc:
        print(f"{script}: needs CuPy, torch and a CUDA GPU ({exc})", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext = native_module()
    if ext is None or op not in ext.ops:
        print(f"{script}: trtplug._native lacks {op} (scripts/setup.sh)", file=sys.stderr)
        return 2
    print(f"{'benchmark':52} {'ours ms':>9} {'GB/s':>7} {'torch ms':>9} {'GB/s':>7} {'x torch':>8} {'max |diff|':>10}")
    for name, nbytes, ours, theirs, max_error in rows(ext, torch, cp):
        error = max_error()
        ms, torch_ms = time_ms(cp, ours, 2, batch=BATCH), time_ms(cp, theirs, 2, batch=BATCH)
        print(
            f"{name:52} {ms:9.4f} {nbytes / ms / 1e6:7.0f} {torch_ms:9.4f} {nbytes / torch_ms / 1e6:7.0f} "
            f"{torch_ms / ms:8.2f} {error:10.2e}",
            flush=True,
        )
    return 0
