"""Antialiased Resize (issue 18: >= 1.5x torch) against torch F.interpolate(antialias=True):
bilinear and bicubic, fp32 and fp16, torchvision-sized batches (8 x 3 x 1024 x 1024 -> 224 x 224,
8 x 3 x 2160 x 3840 (4K) -> 512 x 910). Ours: the CUDA launcher the plugin runs, with the ONNX
attributes of torch's semantics (pytorch_half_pixel, exclude_outside = 1, cubic a = -0.5), its
output checked against torch's first. Median of CUDA-event timings after warm-up, inputs
rotated over two buffers. Bytes: input read once and output written once. Prints a table with
the ratio torch time / ours; not a test.

Two timings per side: `batched` (BATCH calls back to back between two CUDA events, divided: the
device time, as under TensorRT's C++ enqueue) and `single` (one call: adds each side's per-call
host overhead).
"""

from __future__ import annotations

import sys

from trtplug.bench.timing import time_ms  # the shared CUDA-event timing helper

BATCH = 10  # calls per timed batch
CASES = [((8, 3, 1024, 1024), (224, 224)), ((8, 3, 2160, 3840), (512, 910))]
TORCH_AA = {"antialias": 1, "coordinate_transformation_mode": "pytorch_half_pixel", "exclude_outside": 1}


def rows(ext, torch, cp):
    """(name, bytes, ours(i), torch(i), check()) per mode, dtype and size."""
    F = torch.nn.functional
    for shape, size in CASES:
        for dtype in ("float32", "float16"):
            xs = [torch.randn(shape, device="cuda").to(getattr(torch, dtype)) for _ in range(2)]
            cxs = [cp.asarray(x) for x in xs]
            y = cp.empty((*shape[:2], *size), dtype=dtype)
            for mode, torch_mode, a in (("linear", "bilinear", -0.75), ("cubic", "bicubic", -0.5)):
                fields = {**TORCH_AA, "mode": mode, "cubic_coeff_a": a, "axes": [2, 3], "sizes": list(size)}
                name = f"{torch_mode} {'x'.join(map(str, shape))}->{size[0]}x{size[1]} fp{dtype[5:]}"

                def ours(i, fields=fields, cxs=cxs, y=y):
                    ext.resize_antialias([cxs[i]], [y], fields)

                def theirs(i, xs=xs, torch_mode=torch_mode, size=size):
                    return F.interpolate(xs[i], size=size, mode=torch_mode, antialias=True, align_corners=False)

                def max_error(ours=ours, theirs=theirs, y=y):
                    ours(0)
                    return float(cp.abs(y.astype(cp.float32) - cp.asarray(theirs(0).float())).max())

                yield name, xs[0].nelement() * xs[0].element_size() + y.nbytes, ours, theirs, max_error


def main() -> int:
    try:
        import cupy as cp
        import torch
    except ImportError as exc:
        print(f"bench_resize_antialias: needs CuPy, torch and a CUDA GPU ({exc})", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext = native_module()
    if ext is None or "resize_antialias" not in ext.ops:
        print("bench_resize_antialias: trtplug._native lacks resize_antialias (scripts/setup.sh)", file=sys.stderr)
        return 2
    print(
        f"{'benchmark':40} {'ours ms':>9} {'GB/s':>7} {'torch ms':>9} {'GB/s':>7} {'x torch':>8} "
        f"{'ours 1-call':>11} {'torch 1-call':>12} {'x 1-call':>8} {'max |diff|':>10}"
    )
    for name, nbytes, ours, theirs, max_error in rows(ext, torch, cp):
        error = max_error()
        ms, torch_ms = time_ms(cp, ours, 2, batch=BATCH), time_ms(cp, theirs, 2, batch=BATCH)
        ms1, torch_ms1 = time_ms(cp, ours, 2), time_ms(cp, theirs, 2)
        print(
            f"{name:40} {ms:9.4f} {nbytes / ms / 1e6:7.0f} {torch_ms:9.4f} {nbytes / torch_ms / 1e6:7.0f} "
            f"{torch_ms / ms:8.2f} {ms1:11.4f} {torch_ms1:12.4f} {torch_ms1 / ms1:8.2f} {error:10.2e}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
