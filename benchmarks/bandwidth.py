"""Shared helpers of the bandwidth benchmarks (benchmarks/bench_*.py): CUDA-event timing over
rotating input sets, the device-to-device copy baseline, and the result table.

A kernel's bandwidth is the bytes it must move (reads + writes, broadcast operands excluded)
over its median time; it is reported as GB/s, as a fraction of the copy measured in the same
run on the same sizes, and as a ratio to the torch equivalent (its time / ours).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def time_ms(fn: Callable[[int], Any], sets: int, reps: int = 30) -> float:
    """Median milliseconds of fn(i % sets) over `reps` runs after 3 warm-up runs."""
    import cupy as cp

    for i in range(3):
        fn(i % sets)
    times = []
    for i in range(reps):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn(i % sets)
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop))
    return statistics.median(times)


def rotating_sets(mb: int) -> int:
    """Input sets to rotate through so successive runs do not hit the 50 MB L2."""
    return 2 if mb >= 256 else 4


def copy_gbps(nbytes: int, sets: int) -> float:
    """Device-to-device copy (CuPy elementwise) of nbytes: read + write, in GB/s."""
    import cupy as cp

    n = nbytes // 4
    src = [cp.ones(n, dtype=cp.float32) for _ in range(sets)]
    dst = cp.empty_like(src[0])
    ms = time_ms(lambda i: dst.__setitem__(Ellipsis, src[i]), sets)
    return 2 * nbytes / ms / 1e6


def optional_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


@dataclass
class Row:
    dtype: str
    mb: int
    name: str
    ms: float
    nbytes: int  # bytes moved
    copy_gbps: float
    torch_ms: float | None = None

    @property
    def gbps(self) -> float:
        return self.nbytes / self.ms / 1e6

    def format(self) -> str:
        ratio = f"{self.torch_ms / self.ms:8.2f}" if self.torch_ms else "       -"
        return (
            f"{self.dtype:8} {self.mb:6} {self.name:22} {self.ms:8.3f} {self.gbps:8.0f} "
            f"{100 * self.gbps / self.copy_gbps:5.0f}% {ratio}"
        )


HEADER = f"{'dtype':8} {'MB':>6} {'impl':22} {'ms':>8} {'GB/s':>8} {'%copy':>6} {'x torch':>8}"
