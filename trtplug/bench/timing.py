"""CUDA-event timing: warm-up, then the median of many runs, inputs rotated across buffer sets
so that consecutive runs never find their data in L2 (50 MB on an H100); and profiler (CUPTI)
kernel times for calls shorter than the host work of calling them."""

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


# 16 bytes a thread per grid-stride step: the widest load and store, what a tuned elementwise kernel does
_VECTOR_COPY = r"""
extern "C" __global__ void trtplug_vector_copy(const int4* __restrict__ src, int4* __restrict__ dst, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        dst[i] = src[i];
}
"""


def copy_candidates(cp: ModuleType, src: list, dst: object) -> dict[str, Callable[[int], object]]:
    """Three device-to-device copies of src[i] into dst: cudaMemcpyAsync, CuPy's elementwise copy
    and a 16-byte-vector grid-stride kernel. The roofline is the fastest: an op's kernel moving
    16-byte vectors beat the elementwise copy alone by 5-7% on the H200, above "100% of copy"."""
    nbytes = dst.nbytes
    stream = cp.cuda.get_current_stream()
    kernel = cp.RawKernel(_VECTOR_COPY, "trtplug_vector_copy")
    vectors = nbytes // 16
    sms = cp.cuda.Device().attributes["MultiProcessorCount"]
    return {
        "memcpy": lambda i: cp.cuda.runtime.memcpyAsync(dst.data.ptr, src[i].data.ptr, nbytes, 3, stream.ptr),
        "elementwise": lambda i: dst.__setitem__(Ellipsis, src[i]),
        "vector": lambda i: kernel((sms * 8,), (512,), (src[i], dst, cp.int64(vectors))),
    }


def _fastest_ms(cp: ModuleType, runs: dict[str, Callable[[int], object]], torch: ModuleType | None) -> float:
    """The fastest of `runs` over two buffer sets: device time when torch (its profiler) is given,
    else CUDA events."""
    times: dict = {}
    if torch is not None:
        try:
            times = kernel_ms_each(torch, runs, 2, boundary_kernel(cp), reps=20)
        except RuntimeError:  # no CUPTI: events below
            times = {}
    return min(times.get(name) or time_ms(cp, run, 2, reps=20) for name, run in runs.items())


def copy_bandwidth_gbs(cp: ModuleType, nbytes: int = 1 << 30, torch: ModuleType | None = None) -> float:
    """Device-to-device copy bandwidth (read + write bytes per second), measured now: the fastest of
    copy_candidates."""
    count = nbytes // 16 * 4  # float32 elements, a whole number of 16-byte vectors
    src = [cp.arange(count, dtype=cp.float32) for _ in range(2)]
    dst = cp.empty_like(src[0])
    return 2 * count * 4 / _fastest_ms(cp, copy_candidates(cp, src, dst), torch) / 1e6


# 16 zero bytes a thread per grid-stride step: a store stream with no loads
_VECTOR_FILL = r"""
extern "C" __global__ void trtplug_vector_fill(int4* __restrict__ dst, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        dst[i] = make_int4(0, 0, 0, 0);
}
"""


def fill_bandwidth_gbs(cp: ModuleType, nbytes: int = 1 << 30, torch: ModuleType | None = None) -> float:
    """Write-only bandwidth (bytes stored per second), measured now: the faster of cudaMemsetAsync
    and a 16-byte-vector store kernel over two buffers. HBM stores alone outrun a copy's read +
    write rate (no read/write turnarounds), so an op that mostly writes can pass "100% of copy"."""
    vectors = nbytes // 16
    dst = [cp.empty(vectors * 16, dtype=cp.uint8) for _ in range(2)]
    kernel = cp.RawKernel(_VECTOR_FILL, "trtplug_vector_fill")
    sms = cp.cuda.Device().attributes["MultiProcessorCount"]
    stream = cp.cuda.get_current_stream()
    runs = {
        "memset": lambda i: cp.cuda.runtime.memsetAsync(dst[i].data.ptr, 0, vectors * 16, stream.ptr),
        "vector": lambda i: kernel((sms * 8,), (512,), (dst[i], cp.int64(vectors))),
    }
    return vectors * 16 / _fastest_ms(cp, runs, torch) / 1e6


# 16 bytes a thread per grid-stride step folded into one word, stored only if it equals a value
# the data never gives (so the loads cannot be dropped): a load stream with no stores
_VECTOR_READ = r"""
extern "C" __global__ void trtplug_vector_read(const int4* __restrict__ src, long long n, int never, int* out)
{
    int acc = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        int4 const v = src[i];
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == never)
        out[0] = acc;
}
"""


def read_bandwidth_gbs(cp: ModuleType, nbytes: int = 1 << 30, torch: ModuleType | None = None) -> float:
    """Read-only bandwidth (bytes loaded per second), measured now: a 16-byte-vector load kernel
    over two buffers of zeros (its one conditional store never happens)."""
    vectors = nbytes // 16
    src = [cp.zeros(vectors * 16, dtype=cp.uint8) for _ in range(2)]
    out = cp.zeros(1, dtype=cp.int32)
    kernel = cp.RawKernel(_VECTOR_READ, "trtplug_vector_read")
    sms = cp.cuda.Device().attributes["MultiProcessorCount"]
    runs = {"vector": lambda i: kernel((sms * 8,), (512,), (src[i], cp.int64(vectors), cp.int32(1), out))}
    return vectors * 16 / _fastest_ms(cp, runs, torch) / 1e6


def boundary_kernel(cp: ModuleType) -> Callable[[], object]:
    kernel = cp.RawKernel(f'extern "C" __global__ void {BOUNDARY}() {{}}', BOUNDARY)
    return lambda: kernel((1,), (1,), ())


def kernel_times_us(
    torch: ModuleType, fn: Callable[[int], object], sets: int, reps: int = 20, warmup: int = 3
) -> dict[str, float]:
    """Mean device microseconds per call of fn(i), per kernel (or copy/memset) name, from CUPTI
    through torch.profiler: what the GPU spent, without the host's per-call work. A launcher called
    from Python spends 20-50 us of host time per call (argument parsing, array interfaces), longer
    than a small kernel runs, so CUDA events around back-to-back calls then time the host."""
    for i in range(warmup):
        fn(i % sets)
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for i in range(reps):
            fn(i % sets)
        torch.cuda.synchronize()
    per_name: dict[str, float] = {}
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:  # GPU activity only, each once
            per_name[event.name] = per_name.get(event.name, 0.0) + event.time_range.elapsed_us() / reps
    return per_name


def kernel_time_ms(torch: ModuleType, fn: Callable[[int], object], sets: int, reps: int = 20) -> float:
    """Mean device milliseconds per call of fn(i): the sum of kernel_times_us."""
    times = kernel_times_us(torch, fn, sets, reps)
    if not times:
        raise RuntimeError("the profiler saw no GPU activity: is CUPTI available to torch.profiler?")
    return sum(times.values()) / 1e3


BOUNDARY = "trtplug_bench_boundary"  # the kernel launched between runners in one profiler session


def kernel_ms_each(
    torch: ModuleType,
    runs: dict[str, Callable[[int], object]],
    sets: int,
    boundary: Callable[[], object],
    reps: int = 10,
    warmup: int = 2,
) -> dict[str, float | None]:
    """Mean device milliseconds per call of each runner, all timed in one profiler session (starting
    a session costs far more than a benchmark's calls). After each runner's calls, `boundary()`
    launches the kernel named BOUNDARY, which no runner launches; the GPU events in start order are
    split at it. None for a runner the profiler saw no GPU activity for."""
    for run in runs.values():
        for i in range(warmup):
            run(i % sets)
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for run in runs.values():
            for i in range(reps):
                run(i % sets)
            torch.cuda.synchronize()  # every call's kernels start before the boundary's
            boundary()
            torch.cuda.synchronize()
    gpu = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    return _split_at_boundaries(sorted(gpu, key=lambda e: e.time_range.start), list(runs), reps)


def _split_at_boundaries(events: list, names: list[str], reps: int) -> dict[str, float | None]:
    times: dict[str, float | None] = {}
    total_us, seen = 0.0, False
    for event in events:
        if event.name != BOUNDARY:
            total_us, seen = total_us + event.time_range.elapsed_us(), True
            continue
        if len(times) == len(names):
            raise RuntimeError(f"the profiler reported more {BOUNDARY} kernels than runners")
        times[names[len(times)]] = total_us / reps / 1e3 if seen else None
        total_us, seen = 0.0, False
    if len(times) != len(names):
        raise RuntimeError(f"the profiler reported {len(times)} of {len(names)} {BOUNDARY} kernels")
    return times


def timing_method(torch: ModuleType | None) -> str:
    """How call_times measures: the report states it next to the numbers."""
    if torch is not None:
        return "device time per call: the kernels' durations (CUPTI, through torch.profiler)"
    return "CUDA events around back-to-back calls (host work included where it exceeds the kernel's)"


def events_ms(torch: ModuleType, fn: Callable[[int], object], calls: int) -> float:
    """Mean milliseconds per call of fn(i) over `calls` back-to-back calls after 3 warm-up calls, by
    torch's CUDA events (the benchmark scripts' wall time: the host's per-call work included where
    it exceeds the GPU's)."""
    for i in range(3):
        fn(i)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for i in range(calls):
        fn(i)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / calls
