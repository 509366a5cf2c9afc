"""FastGelu bandwidth on a GPU: the CUDA launcher (what the plugin runs), the CuPy prototype and
torch's tanh-GELU, as achieved bytes/s against a device-to-device copy measured in the same run.

Bytes moved: read X (+ bias, negligible) and write Y, 2 * n * itemsize. Inputs rotate across
buffers larger than L2; median of repeated CUDA-event timings after warm-up; never zeros.
Prints a table; not a test.
"""

from __future__ import annotations

import sys

import numpy as np

from trtplug.bench import time_ms


def bench_size(dtype: str, mb: int, ext, proto, torch) -> dict[str, float]:
    """Median ms per implementation for one dtype and size (MB of X)."""
    import cupy as cp

    hidden = 4096
    rows = mb * (1 << 20) // np.dtype(dtype).itemsize // hidden
    sets = 2 if mb >= 256 else 4  # rotate beyond the 50 MB L2
    rng = np.random.default_rng(mb)
    xs = [cp.asarray(rng.standard_normal((rows, hidden), dtype=np.float32)).astype(dtype) for _ in range(sets)]
    bias = cp.asarray(rng.standard_normal(hidden, dtype=np.float32)).astype(dtype)
    y = cp.empty_like(xs[0])
    results = {
        "copy": time_ms(lambda i: y.__setitem__(Ellipsis, xs[i]), sets),
        "cuda+bias": time_ms(lambda i: ext.fast_gelu(xs[i], y, bias), sets),
        "cuda": time_ms(lambda i: ext.fast_gelu(xs[i], y), sets),
        "cupy-proto": time_ms(lambda i: proto.forward(cp, [xs[i], bias], [y], {}), sets, reps=5),
    }
    if torch is not None:
        import torch.nn.functional as F

        tx = [torch.as_tensor(x, device="cuda") for x in xs]
        results["torch"] = time_ms(lambda i: F.gelu(tx[i], approximate="tanh"), sets)
    return results


def main() -> int:
    try:
        import cupy as cp
    except ImportError:
        print("bench_fast_gelu: needs CuPy and a CUDA GPU", file=sys.stderr)
        return 2
    from trtplug.native import native_module
    from trtplug.parity.impls import pyplugin_module
    from trtplug.registry import load_registry

    ext = native_module()
    proto = pyplugin_module(load_registry().get("fast_gelu"))
    try:
        import torch
    except ImportError:
        torch = None
    print(f"{'dtype':8} {'MB':>6} {'impl':12} {'ms':>8} {'GB/s':>8} {'%copy':>6} {'x torch':>8}")
    for dtype in ("float32", "float16"):
        for mb in (64, 256, 1024):
            results = bench_size(dtype, mb, ext, proto, torch)
            nbytes = 2 * mb * (1 << 20)
            for name, ms in results.items():
                ratio = f"{results['torch'] / ms:8.2f}" if "torch" in results else "       -"
                print(
                    f"{dtype:8} {mb:6} {name:12} {ms:8.3f} {nbytes / ms / 1e6:8.0f} "
                    f"{100 * results['copy'] / ms:5.0f}% {ratio}"
                )
            cp.get_default_memory_pool().free_all_blocks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
