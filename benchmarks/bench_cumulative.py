"""CumSum / CumProd (issue 18's scans) against the device copy bandwidth and torch.cumsum /
torch.cumprod: the CUDA launcher the plugins run, timed as device time per call (the kernels'
durations from the profiler, as under TensorRT's C++ enqueue, without Python's per-call host
work), inputs rotated across two buffer sets. Bytes are what a scan must move: x read once, y
written once, the traffic of a copy of x. The target: >= 85% of the copy bandwidth measured in the
same run, along the last axis, a middle axis and a 1-D x of 64M elements, fp32 and fp16; the 1-D x
of 1M elements at least torch's speed (x torch >= 1). Not a test; prints a table.

    python benchmarks/bench_cumulative.py [--mib 256] [filters...]
"""

from __future__ import annotations

import argparse
import math
import sys

from trtplug.bench.timing import copy_bandwidth_gbs, kernel_time_ms

TARGET = 0.85  # of the copy bandwidth
ROW = 4096  # last-axis case: rows of this length
INNER = 16384  # middle-axis case: (8, length, INNER) scanned along axis 1
DTYPES = ("float32", "float16")


def layouts(elements: int) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, shape, axis) of about `elements` elements each. The first axis has 16384 columns:
    the windowed column path (a block per 32 columns, x read once). The 1-D rows are one scan line
    of a fixed length: the one-pass look-back scan (a block per 16 KiB tile, a memset of the tile
    status and one kernel); at 1M elements (4 MiB, in L2) latency dominates, hence the torch
    comparison there, and 64M elements measure its bandwidth."""
    return [
        ("last axis", (elements // ROW, ROW), 1),
        ("middle axis", (8, elements // (8 * INNER), INNER), 1),
        ("first axis", (elements // INNER, INNER), 0),
        ("1-D, 1M", (1 << 20,), 0),
        ("1-D, 64M", (1 << 26,), 0),
    ]


def signed_near_one(cp, shape, dtype):
    """+-(1 + 0.02 z): running products stay finite, so the agreement check means something."""
    signs = cp.where(cp.random.random(shape, dtype=cp.float32) < 0.5, -1.0, 1.0)
    return (signs * (1 + 0.02 * cp.random.standard_normal(shape, dtype=cp.float32))).astype(dtype)


def measure(ext, torch, cp, op: str, shape, axis: int, dtype: str) -> tuple[float, float, float]:
    """(ours ms, torch ms, max |ours - torch| relative to max |torch|) for one scan."""
    xs = [signed_near_one(cp, shape, dtype) for _ in range(2)]
    axis_tensor = cp.asarray(axis, dtype=cp.int64)
    y = cp.empty(shape, dtype=dtype)
    txs = [torch.as_tensor(x, device="cuda") for x in xs]
    run = getattr(ext, op)
    torch_scan = torch.cumsum if op == "cum_sum" else torch.cumprod

    def ours(i: int) -> None:
        run([xs[i], axis_tensor], [y])

    def theirs(i: int):
        return torch_scan(txs[i], dim=axis)

    ours(0)
    expected = theirs(0).float()
    got = torch.as_tensor(y, device="cuda").float()
    error = float((got - expected).abs().max() / expected.abs().max().clamp_min(1e-30)) if y.size else 0.0
    # Device time (profiler), not events around back-to-back calls: a call from Python spends
    # 20-50 us on the host, more than a 64 MiB scan's ~32 us at copy speed or the 1-D rows' few us,
    # so events would time the host (run 2's 49% of copy at 64 MiB against run 1's 83% at 128 MiB).
    return kernel_time_ms(torch, ours, 2), kernel_time_ms(torch, theirs, 2), error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="input size per case (default 256 MiB)")
    parser.add_argument("filters", nargs="*", help="only rows whose name contains one of these")
    args = parser.parse_args()
    try:
        import cupy as cp
        import torch
    except ImportError as exc:
        print(f"bench_cumulative: needs CuPy, torch and a CUDA GPU ({exc})", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext = native_module()
    if ext is None or not hasattr(ext, "cum_sum"):
        print("bench_cumulative: trtplug._native without cum_sum (rebuild: scripts/setup.sh)", file=sys.stderr)
        return 2
    copy = copy_bandwidth_gbs(cp)
    print(f"device copy bandwidth: {copy:.0f} GB/s (read + write); target {TARGET:.0%} = {TARGET * copy:.0f} GB/s")
    print(
        f"{'case':44} {'ms':>8} {'GB/s':>7} {'% copy':>7} {'torch ms':>9} {'torch GB/s':>10} "
        f"{'x torch':>8} {'rel err':>8}"
    )
    for op in ("cum_sum", "cum_prod"):
        for dtype in DTYPES:
            itemsize = 4 if dtype == "float32" else 2
            for layout, shape, axis in layouts((args.mib << 20) // itemsize):
                name = f"{op} {dtype} {layout} {'x'.join(map(str, shape))}"
                if args.filters and not any(f in name for f in args.filters):
                    continue
                ms, torch_ms, error = measure(ext, torch, cp, op, shape, axis, dtype)
                nbytes = 2 * itemsize * math.prod(shape)
                gbs, torch_gbs = nbytes / ms / 1e6, nbytes / torch_ms / 1e6
                print(
                    f"{name:44} {ms:8.4f} {gbs:7.0f} {gbs / copy:7.1%} {torch_ms:9.4f} {torch_gbs:10.0f} "
                    f"{torch_ms / ms:8.2f} {error:8.1e}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
