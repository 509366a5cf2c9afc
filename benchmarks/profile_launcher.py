"""Calls one op's CUDA launcher (or its CuPy prototype) a few times on `trtplug bench`'s workload,
for a profiler to attach to: nothing is timed here, so ncu's replays and CUPTI do not collide with
the bench's own timing. Example (the 16-bit GELU kernels' bandwidth and what limits them):

  ncu --profile-from-start off --section SpeedOfLight --section MemoryWorkloadAnalysis \\
      --section Occupancy --section WarpStateStats --launch-skip 1 --launch-count 1 \\
      python benchmarks/profile_launcher.py --op bias_gelu --dtype float16 --mb 256

With --kernels (needs torch) it times instead: each kernel's mean device time per call of the
launcher and of the torch equivalent (CUPTI through torch.profiler), to see where an op's time goes.

Needs a CUDA GPU and trtplug._native built with the op."""

from __future__ import annotations

import argparse

from trtplug import native
from trtplug.bench.runner import _runners
from trtplug.bench.timing import kernel_times_us
from trtplug.bench.workload import bench_shapes, make_workload
from trtplug.parity.impl_base import pyplugin_module
from trtplug.protolib.dtypes import numpy_dtype
from trtplug.registry import load_registry

MB = 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--op", required=True, help="op key, as `trtplug list` shows it")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--mb", type=int, default=256, help="first-input size in MB, as bench's --sizes")
    parser.add_argument("--calls", type=int, default=3, help="calls of the implementation (>= 2: one warms up)")
    parser.add_argument("--impl", choices=("cuda", "cupy"), default="cuda")
    parser.add_argument("--kernels", action="store_true", help="print per-kernel device times (cuda and torch)")
    args = parser.parse_args()

    import cupy as cp

    spec = load_registry().get(args.op)
    proto = pyplugin_module(spec)
    shapes = bench_shapes(spec, proto, args.mb * MB, numpy_dtype(args.dtype).itemsize)
    if shapes is None:
        raise SystemExit(f"profile_launcher: {args.op} has no benchmark shapes")
    if args.impl == "cuda" and native.native_module() is None:
        raise SystemExit("profile_launcher: trtplug._native is not built")
    workload = make_workload(cp, spec, shapes, args.dtype, 1, seed=args.mb)
    if args.kernels:
        print_kernel_times(cp, spec, proto, workload, args.calls)
        return
    run = _runners(cp, spec, proto, workload, None)[args.impl]
    cp.cuda.get_current_stream().synchronize()
    # Only the calls are in the profiled range: under --profile-from-start off, ncu skips the
    # workload's own kernels (CuPy's random generators), which a bare --launch-skip would count.
    cp.cuda.runtime.profilerStart()
    for _ in range(args.calls):
        run(0)
    cp.cuda.get_current_stream().synchronize()
    cp.cuda.runtime.profilerStop()
    print(f"{args.op} {args.dtype} {args.mb} MB: {args.calls} {args.impl} calls on {shapes}")


def print_kernel_times(cp, spec, proto, workload, calls: int) -> None:
    import torch

    runners = _runners(cp, spec, proto, workload, torch)
    for name in ("cuda", "torch"):
        if name not in runners:
            continue
        times = kernel_times_us(torch, runners[name], 1, reps=max(calls, 2))
        print(f"{name}: {sum(times.values()):.1f} us device time per call")
        for kernel, us in sorted(times.items(), key=lambda item: -item[1]):
            print(f"  {us:10.1f} us  {kernel[:110]}")


if __name__ == "__main__":
    main()
