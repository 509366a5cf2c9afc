"""The profiler-based device timing (trtplug.bench.timing.kernel_times_us) against a stand-in for
torch's profiler: GPU events only, each counted once, averaged per call; no events is an error."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from trtplug.bench.timing import BOUNDARY, kernel_ms_each, kernel_time_ms, kernel_times_us

CUDA, CPU = "cuda", "cpu"


def fake_torch(events_per_call: list[tuple[str, str, float]]):
    """A torch whose profiler reports, for each call fn(i) made inside it, `events_per_call`
    (name, device type, microseconds): CPU-side events included, which must not count."""
    calls = {"n": 0}

    class Profile:
        def events(self):
            return [
                SimpleNamespace(name=name, device_type=device, time_range=SimpleNamespace(elapsed_us=lambda us=us: us))
                for _ in range(calls["n"])
                for name, device, us in events_per_call
            ]

    @contextmanager
    def profile(activities):
        calls["n"] = 0
        yield Profile()

    def counting(fn):
        def run(i):
            calls["n"] += 1
            return fn(i)

        return run

    torch = SimpleNamespace(
        cuda=SimpleNamespace(synchronize=lambda: None),
        profiler=SimpleNamespace(profile=profile, ProfilerActivity=SimpleNamespace(CUDA="CUDA")),
        autograd=SimpleNamespace(DeviceType=SimpleNamespace(CUDA=CUDA)),
    )
    return torch, counting


def test_device_events_are_averaged_per_call_and_host_events_left_out() -> None:
    torch, counting = fake_torch([("gemv", CUDA, 6.0), ("cudaLaunchKernel", CPU, 40.0), ("bias", CUDA, 1.5)])
    seen = []
    times = kernel_times_us(torch, counting(seen.append), sets=3, reps=7, warmup=2)
    assert times == pytest.approx({"gemv": 6.0, "bias": 1.5})
    assert seen == [0, 1] + [i % 3 for i in range(7)]  # warm-up, then the sets in rotation
    assert kernel_time_ms(torch, counting(lambda i: None), sets=1, reps=4) == pytest.approx(7.5e-3)


def test_no_gpu_activity_is_an_error_not_a_zero_time() -> None:
    torch, counting = fake_torch([("cudaLaunchKernel", CPU, 40.0)])
    with pytest.raises(RuntimeError, match="no GPU activity"):
        kernel_time_ms(torch, counting(lambda i: None), sets=1)


def fake_session_torch(log: list[tuple[str, float]]):
    """A torch whose one profiler session reports the GPU events appended to `log` while it is open
    (name, microseconds), each starting after the previous one, plus a host event per GPU event."""
    clock = {"t": 0.0}

    class Profile:
        def __init__(self):
            self.events_seen = []

        def events(self):
            return list(reversed(self.events_seen))  # out of order: the split must sort by start

    session = {}

    @contextmanager
    def profile(activities):
        session["p"] = Profile()
        log.clear()
        yield session["p"]
        for name, us in log:
            clock["t"] += us + 1.0
            start = clock["t"]
            for device in (CUDA, CPU):
                session["p"].events_seen.append(
                    SimpleNamespace(
                        name=name,
                        device_type=device,
                        time_range=SimpleNamespace(start=start, elapsed_us=lambda us=us: us),
                    )
                )

    return SimpleNamespace(
        cuda=SimpleNamespace(synchronize=lambda: None),
        profiler=SimpleNamespace(profile=profile, ProfilerActivity=SimpleNamespace(CUDA="CUDA")),
        autograd=SimpleNamespace(DeviceType=SimpleNamespace(CUDA=CUDA)),
    )


def test_one_session_splits_each_runners_kernels_at_the_boundary_kernel() -> None:
    log: list[tuple[str, float]] = []
    torch = fake_session_torch(log)
    runs = {
        "cuda": lambda i: log.extend([("scan", 4.0), ("combine", 1.0)]),
        "cupy": lambda i: log.append(("cupy_kernel", 9.0 + i)),  # rotation: sets 0, 1, 0, 1
        "host_only": lambda i: None,
    }
    times = kernel_ms_each(torch, runs, sets=2, boundary=lambda: log.append((BOUNDARY, 2.0)), reps=4)
    assert times == {"cuda": pytest.approx(5e-3), "cupy": pytest.approx(9.5e-3), "host_only": None}


def test_lost_boundaries_are_an_error() -> None:
    log: list[tuple[str, float]] = []
    torch = fake_session_torch(log)
    boundaries = iter([True, False])  # the second boundary kernel never shows up
    runs = {"a": lambda i: log.append(("k", 1.0)), "b": lambda i: log.append(("k", 1.0))}

    def boundary():
        if next(boundaries):
            log.append((BOUNDARY, 1.0))

    with pytest.raises(RuntimeError, match="1 of 2"):
        kernel_ms_each(torch, runs, sets=1, boundary=boundary, reps=1)
