"""CUDA-event timing: warm-up, then the median of many runs, inputs rotated across buffer sets
so that consecutive runs never find their data in L2 (50 MB on an H100)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from types import ModuleType

L2_ROTATION_BYTES = 256 << 20  # total input bytes across sets: several times any current L2


def buffer_sets(nbytes: int) -> int:
    """How many copies of an input set to rotate through so the working set exceeds L2."""
    return max(2, min(8, -(-L2_ROTATION_BYTES // max(nbytes, 1))))


def time_ms(
    cp: ModuleType, fn: Callable[[int], object], sets: int, reps: int = 30, warmup: int = 3, batch: int = 1
) -> float:
    """Median milliseconds of fn(i) for i cycling over `sets` buffer sets.

    batch=1 times one call between two events, host work of the call (Python, argument parsing)
    included. batch>1 times `batch` back-to-back calls and divides: the host work then overlaps the
    GPU's, which measures the device time a C++ caller such as TensorRT's enqueue would see."""
    for i in range(warmup):
        fn(i % sets)
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    times = []
    for rep in range(reps):
        start.record()
        for k in range(batch):
            fn((rep * batch + k) % sets)
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop) / batch)
    return statistics.median(times)


def copy_bandwidth_gbs(cp: ModuleType, nbytes: int = 1 << 30) -> float:
    """Device-to-device copy bandwidth (read + write bytes per second), measured now."""
    count = nbytes // 4
    src = [cp.arange(count, dtype=cp.float32) for _ in range(2)]
    dst = cp.empty_like(src[0])
    ms = time_ms(cp, lambda i: dst.__setitem__(Ellipsis, src[i]), 2, reps=20)
    return 2 * count * 4 / ms / 1e6
