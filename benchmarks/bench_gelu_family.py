"""Bandwidth of the GELU family and the bias ops (the CUDA launchers the plugins run) against a
device-to-device copy and the torch equivalent, at large sizes (256 MB and 1 GB of X).

Bytes moved: activations read X and write Y (2 |X|); BiasAdd reads X and skip and writes Y
(3 |X|); BiasSplitGelu reads X and writes half of it (1.5 |X|); bias vectors are negligible.
"x torch" is torch's time over ours for the same result: F.gelu(x [+ b]) for the GELU ops,
x * sigmoid(alpha x) for QuickGelu, x + b + skip, and l * F.gelu(r) of (x + b) split in halves.
"x F.gelu" is torch's single-pass F.gelu on the same X (the GELU-family target, >= 0.95).
Prints a table; not a test. Helpers: benchmarks/bandwidth.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from bandwidth import HEADER, Row, copy_gbps, optional_torch, rotating_sets, time_ms

HIDDEN = {"bias_split_gelu": 5120}  # Stable Diffusion widths; others 4096
MOVED = {"bias_add": 3.0, "bias_split_gelu": 1.5}  # multiples of |X|; others 2


def ours(op: str, ext, x, y, b, s):
    return {
        "gelu": lambda: ext.gelu(x, y),
        "bias_gelu": lambda: ext.bias_gelu(x, y, b),
        "fast_gelu": lambda: ext.fast_gelu(x, y),
        "fast_gelu+bias": lambda: ext.fast_gelu(x, y, b),
        "quick_gelu": lambda: ext.quick_gelu(x, y, 1.702),
        "bias_add": lambda: ext.bias_add(x, y, b, s),
        "bias_split_gelu": lambda: ext.bias_split_gelu(x, y, b),
    }[op]


def theirs(op: str, torch, x, b, s):
    import torch.nn.functional as F

    def split_gelu():
        left, right = (x + b).chunk(2, dim=-1)
        return left * F.gelu(right)

    return {
        "gelu": lambda: F.gelu(x),
        "bias_gelu": lambda: F.gelu(x + b),
        "fast_gelu": lambda: F.gelu(x, approximate="tanh"),
        "fast_gelu+bias": lambda: F.gelu(x + b, approximate="tanh"),
        "quick_gelu": lambda: x * torch.sigmoid(1.702 * x),
        "bias_add": lambda: x + b + s,
        "bias_split_gelu": split_gelu,
    }[op]


def bench_op(op: str, dtype: str, mb: int, ext, torch, copy: float) -> list[Row]:
    import cupy as cp

    hidden = HIDDEN.get(op, 4096)
    rows = mb * (1 << 20) // np.dtype(dtype).itemsize // hidden
    sets = rotating_sets(mb)
    xs = [(cp.random.standard_normal((rows, hidden), dtype=cp.float32) * 2).astype(dtype) for _ in range(sets)]
    skips = [cp.random.standard_normal((rows, hidden), dtype=cp.float32).astype(dtype) for _ in range(sets)]
    b = cp.random.standard_normal(hidden, dtype=cp.float32).astype(dtype)
    y = cp.empty((rows, hidden // 2) if op == "bias_split_gelu" else (rows, hidden), dtype=dtype)
    nbytes = int(MOVED.get(op, 2.0) * rows * hidden * np.dtype(dtype).itemsize)
    calls = [ours(op, ext, xs[i], y, b, skips[i]) for i in range(sets)]
    row = Row(dtype, mb, op, time_ms(lambda i: calls[i](), sets), nbytes, copy)
    result = [row]
    if torch is not None:
        t = [torch.as_tensor(a, device="cuda") for a in (*xs, *skips, b)]
        tcalls = [theirs(op, torch, t[i], t[-1], t[sets + i]) for i in range(sets)]
        row.torch_ms = time_ms(lambda i: tcalls[i](), sets)
        if op in ("gelu", "bias_gelu", "fast_gelu", "fast_gelu+bias", "quick_gelu"):
            single = time_ms(lambda i: torch.nn.functional.gelu(t[i]), sets)
            result.append(Row(dtype, mb, "  x F.gelu 1-pass", row.ms, nbytes, copy, single))
    return result


def main() -> int:
    try:
        import cupy as cp
    except ImportError:
        print("bench_gelu_family: needs CuPy and a CUDA GPU", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext, torch = native_module(), optional_torch()
    ops = ["gelu", "bias_gelu", "fast_gelu", "fast_gelu+bias", "quick_gelu", "bias_add", "bias_split_gelu"]
    print(HEADER)
    for dtype in ("float32", "float16"):
        for mb in (256, 1024):
            copy = copy_gbps(mb * (1 << 20), rotating_sets(mb))
            print(f"{dtype:8} {mb:6} {'copy':22} {'':8} {copy:8.0f}  100%")
            for op in ops:
                for row in bench_op(op, dtype, mb, ext, torch, copy):
                    print(row.format(), flush=True)
                cp.get_default_memory_pool().free_all_blocks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
