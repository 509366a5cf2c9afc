"""RMS norm (plugins/rms_norm: SimplifiedLayerNormalization / RMSNormalization, one kernel) on the
GPU against the issue's target, >= 90% of device copy bandwidth, and against torch's
F.rms_norm: fp16 and bf16, rows x 4096 (Llama hidden) and rows x 896 (Qwen2-0.5B hidden).

Bytes are what the op must move: X read once, Y written once, scale read once. Timing: the
kernels' device time per call (CUPTI through torch.profiler), what TensorRT's enqueue sees; the
smaller rows run for less than the host work of a call from Python, which CUDA events would time.
Inputs rotate across buffer sets larger than L2 (trtplug/bench/timing.py). The copy
reference is a device-to-device copy measured in the same run. Prints a table; not a test.
Usage: python benchmarks/bench_rms_norm.py [name filter ...]
"""

from __future__ import annotations

import sys

from trtplug.bench.timing import buffer_sets, copy_bandwidth_gbs, kernel_time_ms

TARGET = 0.90  # the speed target: fraction of device copy bandwidth
HIDDEN = (4096, 896)
X_BYTES = (32 << 20, 256 << 20)  # X sizes per point: an L2-exceeding batch, and a large prefill
TYPESTR = {"float16": "<f2", "bfloat16": "<V2"}  # bfloat16 has no NumPy kind letter: "<V2"


class DeviceView:
    """A torch tensor as the bindings take it (__cuda_array_interface__; torch exports none for bf16)."""

    def __init__(self, tensor, dtype: str) -> None:
        self.tensor = tensor  # keeps the storage alive
        self.__cuda_array_interface__ = {
            "shape": tuple(tensor.shape),
            "typestr": TYPESTR[dtype],
            "data": (tensor.data_ptr(), False),
            "version": 3,
        }


def points(torch, wanted: list[str]):
    """(name, bytes moved, ours(i), torch(i), sets) per benchmark point."""
    for dtype in ("float16", "bfloat16"):
        torch_dtype = getattr(torch, dtype)
        for hidden in HIDDEN:
            for x_bytes in X_BYTES:
                rows = x_bytes // 2 // hidden
                name = f"{rows} x {hidden} {dtype}"
                if wanted and not any(w in name for w in wanted):
                    continue
                nbytes = 2 * (2 * rows * hidden + hidden)
                sets = buffer_sets(nbytes)
                xs = [torch.randn(rows, hidden, device="cuda", dtype=torch_dtype) for _ in range(sets)]
                ys = [torch.empty_like(x) for x in xs]
                scale = torch.randn(hidden, device="cuda", dtype=torch_dtype)
                ours_x = [DeviceView(x, dtype) for x in xs]
                ours_y = [DeviceView(y, dtype) for y in ys]
                ours_scale = DeviceView(scale, dtype)
                yield name, nbytes, sets, (xs, ys, scale), (ours_x, ours_y, ours_scale)


def check_close(torch, ext, tensors, views) -> float:
    """Max |ours - torch| on the first buffer set: the timing compares like with like."""
    xs, ys, scale = tensors
    ext.rms_normalization([views[0][0], views[2]], [views[1][0]], {"axis": -1, "epsilon": 1e-6})
    want = torch.nn.functional.rms_norm(xs[0], (xs[0].shape[-1],), scale, 1e-6)
    torch.cuda.synchronize()
    return float((ys[0].float() - want.float()).abs().max())


def time_point(cp, torch, ext, sets: int, tensors, views) -> tuple[float, float]:
    """(ours ms, torch ms) per call: device time (the profiler's), as TensorRT's C++ enqueue sees it;
    a 32 MB row norm runs for less than the host work of calling it from Python."""
    xs, _, scale = tensors
    ox, oy, oscale = views
    attrs = {"axis": -1, "epsilon": 1e-6}
    ms = kernel_time_ms(torch, lambda i: ext.rms_normalization([ox[i], oscale], [oy[i]], attrs), sets)
    rms_norm = torch.nn.functional.rms_norm
    torch_ms = kernel_time_ms(torch, lambda i: rms_norm(xs[i], (xs[i].shape[-1],), scale, 1e-6), sets)
    return ms, torch_ms


def main() -> int:
    try:
        import cupy as cp
        import torch
    except ImportError as exc:
        print(f"bench_rms_norm: needs CuPy, torch and a CUDA GPU ({exc})", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext = native_module()
    if ext is None or not hasattr(ext, "rms_normalization"):
        print("bench_rms_norm: trtplug._native is not built with rms_norm (scripts/setup.sh)", file=sys.stderr)
        return 2
    copy = copy_bandwidth_gbs(cp)
    print(f"device copy: {copy:.0f} GB/s; target {TARGET:.0%} of copy = {TARGET * copy:.0f} GB/s")
    print(
        f"{'shape':26} {'ours ms':>9} {'GB/s':>7} {'% copy':>7} {'torch ms':>9} {'GB/s':>7} "
        f"{'x torch':>8} {'max|diff|':>10} {'target':>7}"
    )
    missed = 0
    for name, nbytes, sets, tensors, views in points(torch, sys.argv[1:]):
        diff = check_close(torch, ext, tensors, views)
        ms, torch_ms = time_point(cp, torch, ext, sets, tensors, views)
        gbs = nbytes / ms / 1e6
        met = gbs >= TARGET * copy
        missed += not met
        print(
            f"{name:26} {ms:9.4f} {gbs:7.0f} {gbs / copy:7.1%} {torch_ms:9.4f} {nbytes / torch_ms / 1e6:7.0f} "
            f"{torch_ms / ms:8.2f} {diff:10.2e} {'met' if met else 'MISSED':>7}",
            flush=True,
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
