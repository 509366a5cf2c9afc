"""FastGelu bandwidth on a GPU: the CUDA launcher (what the plugin runs), the CuPy prototype and
torch's tanh-GELU, as achieved bytes/s against a device-to-device copy measured in the same run.

Bytes moved: read X (+ bias, negligible) and write Y, 2 * n * itemsize. Inputs rotate across
buffers larger than L2; median of repeated CUDA-event timings after warm-up; never zeros.
Prints a table; not a test. Helpers: benchmarks/bandwidth.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from bandwidth import HEADER, Row, copy_gbps, optional_torch, rotating_sets, time_ms


def bench_size(dtype: str, mb: int, ext, proto, torch) -> list[Row]:
    import cupy as cp

    hidden = 4096
    rows = mb * (1 << 20) // np.dtype(dtype).itemsize // hidden
    sets = rotating_sets(mb)
    rng = np.random.default_rng(mb)
    xs = [cp.asarray(rng.standard_normal((rows, hidden), dtype=np.float32)).astype(dtype) for _ in range(sets)]
    bias = cp.asarray(rng.standard_normal(hidden, dtype=np.float32)).astype(dtype)
    y = cp.empty_like(xs[0])
    nbytes, copy = 2 * mb * (1 << 20), copy_gbps(mb * (1 << 20), sets)
    torch_ms = None
    if torch is not None:
        import torch.nn.functional as F

        tx = [torch.as_tensor(x, device="cuda") for x in xs]
        torch_ms = time_ms(lambda i: F.gelu(tx[i], approximate="tanh"), sets)
    timings = {
        "cuda+bias": time_ms(lambda i: ext.fast_gelu(xs[i], y, bias), sets),
        "cuda": time_ms(lambda i: ext.fast_gelu(xs[i], y), sets),
        "cupy-proto": time_ms(lambda i: proto.forward(cp, [xs[i], bias], [y], {}), sets, reps=5),
    }
    rows_out = [Row(dtype, mb, name, ms, nbytes, copy, torch_ms) for name, ms in timings.items()]
    if torch_ms is not None:
        rows_out.append(Row(dtype, mb, "torch", torch_ms, nbytes, copy, torch_ms))
    return rows_out


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
    torch = optional_torch()
    print(HEADER)
    for dtype in ("float32", "float16"):
        for mb in (64, 256, 1024):
            for row in bench_size(dtype, mb, ext, proto, torch):
                print(row.format())
            cp.get_default_memory_pool().free_all_blocks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
