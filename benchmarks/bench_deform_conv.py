"""DeformConv speed on the GPU (issue 18 target: >= 1.5x torchvision.ops.deform_conv2d; default
N=8, C=64->64, 3x3, 128x128, with mask and bias). For each dtype prints the plugin's launcher time
(deformable im2col + cuBLAS GEMM per image), torchvision's in the same run, the ratio (> 1: the
plugin is faster) and the largest difference from float32 torchvision on the rounded inputs.
Usage: python benchmarks/bench_deform_conv.py [--batch 8 --channels 64 --out-channels 64 --side 128]
"""

from __future__ import annotations

import argparse
from typing import Any

from trtplug import native
from trtplug.bench.timing import time_ms
from trtplug.protolib.dtypes import Bf16Device
from trtplug.registry import load_registry


def export(cp: Any, torch: Any, t: Any) -> Any:
    if t.dtype == torch.bfloat16:
        return Bf16Device(cp.asarray(t.view(torch.int16)).view(cp.uint16))
    return cp.asarray(t)


def bench_one(cp: Any, torch: Any, ext: Any, a: argparse.Namespace, dtype: str) -> str:
    import torchvision

    spec = load_registry().get("onnx_deform_conv")
    gen = torch.Generator(device="cuda").manual_seed(0)
    tdtype = getattr(torch, dtype)
    n, c, oc, side = a.batch, a.channels, a.out_channels, a.side
    x = torch.randn((n, c, side, side), device="cuda", generator=gen).to(tdtype)
    w = (0.05 * torch.randn((oc, c, 3, 3), device="cuda", generator=gen)).to(tdtype)
    offset = (2 * torch.randn((n, 18, side, side), device="cuda", generator=gen)).to(tdtype)
    mask = torch.rand((n, 9, side, side), device="cuda", generator=gen).to(tdtype)
    bias = torch.randn((oc,), device="cuda", generator=gen).to(tdtype)
    y = torch.empty((n, oc, side, side), device="cuda", dtype=tdtype)
    ins = [export(cp, torch, t) for t in (x, w, offset, bias, mask)]
    outs = [export(cp, torch, y)]
    attrs = {"pads": [1, 1, 1, 1]}
    stream = cp.cuda.get_current_stream()
    ms = time_ms(cp, lambda i: native.run_binding(spec, ext, ins, outs, attrs, stream), 1, reps=30, batch=5)

    def torch_side(i: int) -> Any:
        return torchvision.ops.deform_conv2d(x, offset, w, bias, padding=(1, 1), mask=mask)

    torch_ms = time_ms(cp, torch_side, 1, reps=30)
    expected = torchvision.ops.deform_conv2d(
        x.float(), offset.float(), w.float(), bias.float(), padding=(1, 1), mask=mask.float()
    )
    err = (y.float() - expected).abs().max().item()
    times = f"{ms * 1e3:>10.1f} {torch_ms * 1e3:>12.1f} {torch_ms / ms:>8.2f}x"
    return f"{dtype:<9} {times}  (max |plugin - fp32 torchvision| {err:.1e})"


def main() -> None:
    import cupy as cp
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--out-channels", type=int, default=64)
    parser.add_argument("--side", type=int, default=128)
    parser.add_argument("--dtypes", nargs="+", default=["float16", "bfloat16", "float32"])
    a = parser.parse_args()
    ext = native.native_module()
    if ext is None or "onnx_deform_conv" not in ext.ops:
        raise SystemExit("bench_deform_conv: trtplug._native with the DeformConv binding is not built")
    print(f"N={a.batch} C={a.channels}->{a.out_channels} 3x3 {a.side}x{a.side}, mask and bias")
    print(f"{'dtype':<9} {'plugin us':>10} {'torchvision us':>12} {'speedup':>9}")
    for dtype in a.dtypes:
        try:
            print(bench_one(cp, torch, ext, a, dtype))
        except (ValueError, RuntimeError, TypeError) as exc:  # e.g. torchvision without this dtype
            print(f"{dtype:<9} not run: {str(exc).splitlines()[0]}")


if __name__ == "__main__":
    main()
