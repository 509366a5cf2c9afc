"""GPU timing shared by the scripts in benchmarks/ (CuPy imported lazily; not used by the CLI).

Median of CUDA-event timings after warm-up; callers rotate inputs across `sets` buffers so
that together they exceed the L2 cache and every run reads device memory.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable


def time_ms(fn: Callable[[int], object], sets: int, reps: int = 30, inner: int = 1) -> float:
    """Median milliseconds of fn(i % sets) over `reps` timings, after 3 warm-up runs. With
    inner > 1 each timing spans `inner` back-to-back calls (divided out), so the host's launch
    overhead overlaps GPU work instead of idling the GPU between the events."""
    import cupy as cp

    for i in range(3):
        fn(i % sets)
    times = []
    for i in range(reps):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        for k in range(inner):
            fn((i * inner + k) % sets)
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop) / inner)
    return statistics.median(times)


def rotation(nbytes: int, l2_bytes: int = 50 << 20) -> int:
    """Buffer sets to rotate through so that consecutive runs never hit in L2 (at least 2)."""
    return max(2, min(8, -(-4 * l2_bytes // max(nbytes, 1))))
