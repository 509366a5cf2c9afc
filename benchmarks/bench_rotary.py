"""RotaryEmbedding speed on the GPU (issue 17 target: >= 90% of device copy bandwidth, fp16/bf16,
batch 4 x 32 heads x 4096 tokens x 128). For each layout and variant prints the kernel's GB/s
over the bytes it must move (input read + output written; the cos/sin rows are 1/heads of that),
the fraction of a device-to-device copy measured in the same run, and the ratio to a torch
implementation (the Llama rotate_half form with a position_ids gather; > 1: the plugin is faster).
Usage: python benchmarks/bench_rotary.py [--batch 4 --heads 32 --seq 4096 --head-dim 128]
"""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

from trtplug import native
from trtplug.bench.timing import copy_bandwidth_gbs, kernel_time_ms
from trtplug.protolib.dtypes import Bf16Device
from trtplug.registry import load_registry

MAX_POSITION = 8192


def device_inputs(cp: Any, torch: Any, a: argparse.Namespace, dtype: str, three_d: bool, rot: int) -> SimpleNamespace:
    """The same random inputs as torch tensors and as arrays the binding takes."""
    gen = torch.Generator(device="cuda").manual_seed(0)
    tdtype = getattr(torch, dtype)
    shape = (a.batch, a.heads, a.seq, a.head_dim)
    x = torch.randn(shape, device="cuda", generator=gen).to(tdtype)
    angles = torch.rand((MAX_POSITION, rot // 2), device="cuda", generator=gen) * 6.3
    cos, sin = angles.cos().to(tdtype), angles.sin().to(tdtype)
    positions = torch.randint(0, MAX_POSITION - 1, (a.batch, a.seq), device="cuda", generator=gen)
    if three_d:
        x = x.transpose(1, 2).contiguous().reshape(a.batch, a.seq, a.heads * a.head_dim)
    y = torch.empty_like(x)

    def export(t: Any) -> Any:
        if t.dtype == torch.bfloat16:
            return Bf16Device(cp.asarray(t.view(torch.int16)).view(cp.uint16))
        return cp.asarray(t)

    return SimpleNamespace(x=x, y=y, cos=cos, sin=sin, positions=positions, export=export)


def torch_rotary(torch: Any, x: Any, cos: Any, sin: Any, positions: Any, heads: int) -> Any:
    """4-D [B, N, S, H] (or 3-D [B, S, N * H] viewed as it) with full rotary dim, rotate_half form."""
    four_d = x.dim() == 4
    xv = x if four_d else x.view(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)
    c = torch.cat([cos[positions], cos[positions]], dim=-1).unsqueeze(1)
    s = torch.cat([sin[positions], sin[positions]], dim=-1).unsqueeze(1)
    lo, hi = xv.chunk(2, dim=-1)
    y = xv * c + torch.cat([-hi, lo], dim=-1) * s
    return y if four_d else y.transpose(1, 2).reshape(x.shape)


def bench_one(cp: Any, torch: Any, ext: Any, a: argparse.Namespace, dtype: str, variant: dict, copy: float) -> str:
    spec = load_registry().get("contrib_rotary_embedding")
    rot = variant.get("rotary_embedding_dim", 0) or a.head_dim
    d = device_inputs(cp, torch, a, dtype, variant["three_d"], rot)
    attrs = {k: v for k, v in variant.items() if k != "three_d"}
    attrs.setdefault("num_heads", a.heads)
    ins = [d.export(d.x), cp.asarray(d.positions), d.export(d.cos), d.export(d.sin)]
    outs = [d.export(d.y)]
    stream = cp.cuda.get_current_stream()
    ms = kernel_time_ms(torch, lambda i: native.run_binding(spec, ext, ins, outs, attrs, stream), 1)  # device time
    moved = 2 * d.x.numel() * d.x.element_size()
    gbs = moved / ms / 1e6
    line = f"{dtype:<9} {variant['name']:<26} {ms * 1e3:>9.1f} {gbs:>8.0f} {100 * gbs / copy:>7.1f}%"
    if rot != a.head_dim or variant.get("interleaved"):
        return line + f" {'-':>8}"
    torch_ms = kernel_time_ms(torch, lambda i: torch_rotary(torch, d.x, d.cos, d.sin, d.positions, a.heads), 1)
    expected = torch_rotary(torch, d.x.float(), d.cos.float(), d.sin.float(), d.positions, a.heads)
    err = (d.y.float() - expected).abs().max().item()
    return line + f" {torch_ms / ms:>7.2f}x  (max |plugin - fp32 torch| {err:.1e})"


VARIANTS = [
    {"name": "4-D BNSH", "three_d": False},
    {"name": "3-D BSNH", "three_d": True},
    {"name": "4-D interleaved", "three_d": False, "interleaved": 1},
    {"name": "3-D partial (half dims)", "three_d": True, "rotary_embedding_dim": 64},
]


def main() -> None:
    import cupy as cp
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--seq", type=int, default=4096)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--dtypes", nargs="+", default=["float16", "bfloat16", "float32"])
    a = parser.parse_args()
    ext = native.native_module()
    if ext is None or "contrib_rotary_embedding" not in ext.ops:
        raise SystemExit("bench_rotary: trtplug._native with the RotaryEmbedding binding is not built")
    copy = copy_bandwidth_gbs(cp)
    print(f"B={a.batch} N={a.heads} S={a.seq} H={a.head_dim}; device copy {copy:.0f} GB/s")
    print(f"{'dtype':<9} {'variant':<26} {'us':>9} {'GB/s':>8} {'of copy':>8} {'vs torch':>8}")
    for dtype in a.dtypes:
        for variant in VARIANTS:
            try:
                print(bench_one(cp, torch, ext, a, dtype, variant, copy))
            except (ValueError, RuntimeError, TypeError) as exc:  # e.g. a binding without bf16 transport
                print(f"{dtype:<9} {variant['name']:<26} not run: {str(exc).splitlines()[0]}")


if __name__ == "__main__":
    main()
