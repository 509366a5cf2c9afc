"""MoE and QMoE expert GEMM paths at decode token counts: where the GEMV should become the default.

plugins/moe/moe_pipeline.cuh's planFor runs the expert GEMMs (fc1, fc2) as a GEMV (a warp per
output column, meant for decode), WMMA tensor-core tiles (tc: fp16/bf16) or CUDA-core tiles (simt:
fp32); TRTPLUG_MOE_GEMM=gemv|tc|simt (read per launch) forces one. For each layout, op/quant,
dtype and token count (1-64) this times every applicable path through trtplug._native (the CUDA
launcher the plugin runs) and says which won:

- layouts: gpt-oss-like (hidden 2880, inter 2880, 32 experts, top-4, biases, swiglu fusion 1 with
  alpha 1.702, beta 1, limit 7, as GenAI emits it) and Qwen3-MoE-like (hidden 2048, inter 768,
  128 experts, top-8, no biases, silu(gate) * up as swiglu fusion 1 with alpha 1, beta 0, no limit).
- MoE: fp16 and bf16 on gemv and tc, fp32 on gemv and simt. QMoE: int4 in blocks of 32 and int8
  (blocks of --int8-block, 0: one scale per column), fp16 and bf16 activations, on gemv and tc
  (codes random bytes, no zero points: 2^(bits - 1)).
- device us: the op's GPU time per call from the profiler (trtplug.bench.timing.kernel_times_us:
  routing, its memset, the grouped GEMMs, activation, combine), without the host's per-call work;
  gemm us: the grouped GEMM kernels alone; wall us: CUDA events around back-to-back calls from
  Python (the host's work included where it exceeds the GPU's).
- experts: the distinct experts the tokens route to; MB: the bytes their fc1 + fc2 weights occupy
  (QMoE: codes + scales; biases left out), the traffic floor of a call; GB/s over those bytes by
  the device time, and its fraction of a 1 GiB device-to-device copy measured in the same run.
- DRAM, not L2: router logits are random (a uniformly random top-k per token, tie-free in every
  dtype), fresh per layout and token count; the calls rotate over `sets` copies of them with the
  expert axis permuted so that consecutive calls route to disjoint experts (the same count), i.e.
  rotate over weight sets without copying the weights. Between two reads of an expert at least a
  third of the layout's experts are read (over 100 MB at every layout and dtype here), as a decode
  step reads each layer's experts once.
- checked: per (layout, op, dtype, tokens) the paths' outputs (set 0, output poisoned with NaN
  first) must agree, max |difference| / max |output| < 2e-2 (16-bit) or 1e-4 (fp32), and each
  path's GEMM kernel must be the one the profiler saw; otherwise a FAIL line replaces the group's
  timing rows and the script exits 1.

One set of weights per layout and dtype is resident (fp16/bf16: 1.6 GB gpt-oss, 1.2 GB Qwen;
int4 0.45/0.34 GB; int8 0.85/0.64 GB; fp32 3.2/2.4 GB). Needs torch, a GPU and trtplug._native
with moe and qmoe.
    python benchmarks/bench_moe_decode.py [--quick] [--layouts gptoss qwen3moe] [--tokens 1 2 4 ...]
        [--reps 32] [--int8-block 32]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtplug.bench.timing import events_ms, kernel_times_us

DEVICE = "cuda"
ENV = "TRTPLUG_MOE_GEMM"
TOKENS = (1, 2, 4, 8, 16, 32, 64)
QUICK_TOKENS = (1, 16)
# The grouped GEMM kernel each forced path launches (moe_gemv.cuh, moe_gemm_tc.cuh, moe_gemm.cuh).
PATH_KERNEL = {"gemv": "groupedGemvKernel", "tc": "groupedGemmTcKernel", "simt": "groupedGemmKernel"}
GEMM_KERNELS = tuple(PATH_KERNEL.values())
TOLERANCE = {"float32": 1e-4, "float16": 2e-2, "bfloat16": 2e-2}
SHORT = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


@dataclass(frozen=True)
class Layout:
    name: str
    hidden: int
    inter: int
    experts: int
    k: int
    biases: bool
    attrs: dict = field(hash=False)

    @property
    def fc1_cols(self) -> int:
        return 2 * self.inter  # swiglu fusion 1: gate and linear rows interleaved in fc1


GPTOSS_SWIGLU = {
    "activation_type": "swiglu",
    "activation_alpha": 1.702,
    "activation_beta": 1.0,
    "swiglu_fusion": 1,
    "swiglu_limit": 7.0,
    "normalize_routing_weights": 1,
    "use_sparse_mixer": 0,
}
# silu(gate) * up: swiglu's g * sigmoid(alpha g) * (l + beta) at alpha 1, beta 0, no limit.
QWEN_SWIGLU = {
    "activation_type": "swiglu",
    "activation_alpha": 1.0,
    "activation_beta": 0.0,
    "swiglu_fusion": 1,
    "normalize_routing_weights": 1,
    "use_sparse_mixer": 0,
}
LAYOUTS = {
    "gptoss": Layout("gptoss", 2880, 2880, 32, 4, True, {**GPTOSS_SWIGLU, "k": 4}),
    "qwen3moe": Layout("qwen3moe", 2048, 768, 128, 8, False, {**QWEN_SWIGLU, "k": 8}),
}


@dataclass(frozen=True)
class Variant:
    op: str  # the binding: "moe" or "qmoe"
    quant: str  # "dense", "int4-b32", "int8-b32", "int8-col"
    dtype: str  # the activations' (and scales', biases') torch dtype name
    paths: tuple[str, ...]
    bits: int = 0
    block: int = 0

    @property
    def label(self) -> str:
        return f"{self.op}/{self.quant}"


def variants(int8_block: int) -> list[Variant]:
    int8 = f"int8-b{int8_block}" if int8_block else "int8-col"
    out = [
        Variant("moe", "dense", "float16", ("gemv", "tc")),
        Variant("moe", "dense", "bfloat16", ("gemv", "tc")),
        Variant("moe", "dense", "float32", ("gemv", "simt")),
    ]
    for quant, bits, block in (("int4-b32", 4, 32), (int8, 8, int8_block)):
        for dtype in ("float16", "bfloat16"):
            out.append(Variant("qmoe", quant, dtype, ("gemv", "tc"), bits, block))
    return out


class Bf16View:
    """A torch bf16 CUDA tensor as trtplug's bindings read bf16 ("<V2", as ml_dtypes exports it)."""

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor  # keeps the memory alive as long as the view
        self.__cuda_array_interface__ = {
            "shape": tuple(tensor.shape),
            "typestr": "<V2",
            "data": (tensor.data_ptr(), False),
            "version": 3,
        }


def as_binding_array(torch: Any, tensor: Any) -> Any:
    if tensor is None:
        return None
    return Bf16View(tensor) if tensor.dtype == torch.bfloat16 else tensor


def expert_weights(torch: Any, layout: Layout, v: Variant) -> tuple[list[Any], int]:
    """The op's inputs after input and router_probs, in spec order (None: an absent bias), of about
    unit-size outputs for unit inputs; and the bytes one expert's weights (QMoE: codes and scales)
    occupy."""
    dtype = getattr(torch, v.dtype)
    e, h, i, n1 = layout.experts, layout.hidden, layout.inter, layout.fc1_cols

    def bias(rows: int) -> Any:
        return torch.randn(e, rows, dtype=dtype, device=DEVICE).mul_(0.5) if layout.biases else None

    if v.op == "moe":
        fc1 = torch.randn(e, n1, h, dtype=dtype, device=DEVICE).mul_(h**-0.5)
        fc2 = torch.randn(e, h, i, dtype=dtype, device=DEVICE).mul_(i**-0.5)
        weights = [fc1, fc2]
        inputs = [fc1, bias(n1), fc2, bias(h)]
    else:
        c1, s1 = quantized(torch, e, n1, h, v, dtype)
        c2, s2 = quantized(torch, e, h, i, v, dtype)
        weights = [c1, s1, c2, s2]
        inputs = [c1, s1, bias(n1), c2, s2, bias(h)]
    per_expert = sum(t.numel() * t.element_size() for t in weights) // e
    return inputs, per_expert


def quantized(torch: Any, e: int, n: int, k: int, v: Variant, dtype: Any) -> tuple[Any, Any]:
    """uint8 codes [E, N, K * bits / 8] (random bytes: every code in range, low bits first) and
    positive scales [E, N, K / block] ([E, N] column-wise) sized sqrt(6) / 2^bits / sqrt(K) as the
    parity generator sizes them (a code minus 2^(bits - 1) spreads over about 2^bits / sqrt(6))."""
    codes = torch.randint(0, 256, (e, n, k * v.bits // 8), dtype=torch.uint8, device=DEVICE)
    shape = (e, n, k // v.block) if v.block else (e, n)
    unit = math.sqrt(6.0) / 2**v.bits / math.sqrt(k)
    scales = (torch.rand(shape, device=DEVICE).add_(0.5).mul_(unit)).to(dtype)
    return codes, scales


def routing_sets(rng: np.random.Generator, tokens: int, experts: int, k: int) -> tuple[list[np.ndarray], int]:
    """Router logits [tokens, experts] as `sets` float32 arrays, and the distinct experts each routes
    to. Each token's logits are a random permutation of (0..E-1 - E/2) / 8: a uniformly random top-k,
    no ties, exact in fp16 and bf16 (multiples of 1/8 below 8 in magnitude), so the routing is known
    here. Set s permutes the expert axis so that its routed experts are the s-th block of a random
    order of all experts: the sets route to disjoint experts (experts // distinct of them)."""
    ranks = np.stack([rng.permutation(experts) for _ in range(tokens)])
    routed = np.unique(np.argsort(-ranks, axis=1)[:, :k])
    distinct = int(routed.size)
    order = rng.permutation(experts)
    others = np.setdiff1d(np.arange(experts), routed)
    sets = []
    for s in range(max(1, experts // distinct)):
        target = order[s * distinct : (s + 1) * distinct]
        mapping = np.empty(experts, dtype=np.int64)  # expert e's logits move to column mapping[e]
        mapping[routed] = target
        mapping[others] = rng.permutation(np.setdiff1d(np.arange(experts), target))
        logits = np.empty((tokens, experts), dtype=np.float32)
        logits[:, mapping] = ranks
        sets.append((logits - experts / 2) / 8)
    return sets, distinct


@dataclass
class Group:
    """One (layout, variant, tokens): its calls over the router sets, one output, one workspace."""

    call: Any  # call(i): the op on router set i % sets
    sets: int
    output: Any


def make_group(torch: Any, ext: Any, layout: Layout, v: Variant, weights: list[Any], x32: Any, logits: list) -> Group:
    dtype = getattr(torch, v.dtype)
    tokens = x32.shape[0]
    x = x32.to(dtype)
    routers = [torch.from_numpy(a).to(DEVICE, dtype) for a in logits]
    y = torch.full((tokens, layout.hidden), float("nan"), dtype=dtype, device=DEVICE)
    attrs = dict(layout.attrs)
    if v.op == "qmoe":
        attrs.update(expert_weight_bits=v.bits, block_size=v.block)
    workspace = None  # else the binding allocates stream-ordered scratch per call
    if hasattr(ext, "moe_workspace_bytes"):
        size = ext.moe_workspace_bytes(tokens, layout.hidden, layout.inter, layout.experts, layout.k, layout.fc1_cols)
        workspace = as_binding_array(torch, torch.empty(max(size, 1), dtype=torch.uint8, device=DEVICE))
    ins = [[as_binding_array(torch, t) for t in (x, r, *weights)] for r in routers]
    outs = [as_binding_array(torch, y)]
    op = getattr(ext, v.op)
    stream = torch.cuda.current_stream() if DEVICE == "cuda" else None

    def call(i: int) -> None:
        op(ins[i % len(ins)], outs, attrs, stream, workspace=workspace)

    return Group(call, len(ins), y)


def copy_gbs(torch: Any) -> float:
    """Device-to-device copy bandwidth of 1 GiB (read + write bytes per second), CUDA events."""
    src = torch.empty(1 << 30, dtype=torch.uint8, device=DEVICE)
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        dst.copy_(src)
    end.record()
    end.synchronize()
    if not kernel_times_us(torch, lambda _: dst.copy_(src), 1, reps=2, warmup=1):
        raise SystemExit("the profiler saw no GPU activity: torch.profiler needs CUPTI for device times")
    return 2 * src.numel() * 20 / start.elapsed_time(end) / 1e6


def check_paths(torch: Any, group: Group, v: Variant) -> str:
    """Each path's output for router set 0 (poisoned first); "" when they agree, else why not."""
    outputs = {}
    for path in v.paths:
        os.environ[ENV] = path
        group.output.fill_(float("nan"))
        group.call(0)
        torch.cuda.synchronize()
        outputs[path] = group.output.float().clone()
    first, ref = v.paths[0], outputs[v.paths[0]]
    scale = ref.abs().max().item()
    if not math.isfinite(scale) or scale == 0.0:
        return f"{first}'s output has max |y| = {scale}"
    for path in v.paths[1:]:
        rel = (outputs[path] - ref).abs().max().item() / scale
        if not rel < TOLERANCE[v.dtype]:  # NaN fails too
            return f"{path} vs {first}: max |diff| / max |y| = {rel:.3g} (limit {TOLERANCE[v.dtype]:g})"
    return ""


@dataclass
class Row:
    path: str
    device_us: float
    gemm_us: float
    wall_us: float


def time_path(torch: Any, group: Group, path: str, reps: int) -> tuple[Row | None, str]:
    os.environ[ENV] = path
    kernels = kernel_times_us(torch, group.call, group.sets, reps=reps)
    gemm = {name: us for name, us in kernels.items() if any(g in name for g in GEMM_KERNELS)}
    if not any(PATH_KERNEL[path] in name for name in gemm):
        seen = ", ".join(short_name(n) for n in gemm) or "none"
        return None, f"{ENV}={path} ran GEMM kernels [{seen}], not {PATH_KERNEL[path]}"
    wall_us = events_ms(torch, group.call, reps) * 1e3  # back-to-back calls, the host's work included
    row = Row(path, sum(kernels.values()), sum(gemm.values()), wall_us)
    return row, ""


def short_name(name: str) -> str:
    return name.split("(")[0].split("<")[0].split("::")[-1].removeprefix("void ")


HEADER = (
    f"{'layout':9s} {'op/quant':14s} {'dtype':5s} {'tok':>3s} {'path':4s} {'device_us':>9s} {'gemm_us':>8s} "
    f"{'wall_us':>8s} {'experts':>7s} {'MB':>7s} {'GB/s':>6s} {'of_copy':>7s} {'sets':>4s}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS))
    parser.add_argument("--tokens", nargs="+", type=int, default=list(TOKENS))
    parser.add_argument("--reps", type=int, default=32, help="calls per timing (rounded up to whole rotations)")
    parser.add_argument("--int8-block", type=int, default=32, choices=[0, 16, 32, 64, 128, 256], help="0: per column")
    parser.add_argument("--quick", action="store_true", help="smoke run: gpt-oss layout, tokens 1 and 16")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    layouts = [LAYOUTS["gptoss"]] if args.quick else [LAYOUTS[name] for name in args.layouts]
    tokens = list(QUICK_TOKENS) if args.quick else args.tokens
    try:
        import torch
    except ImportError as exc:
        raise SystemExit(f"needs torch with CUDA: {exc}") from exc
    from trtplug import native

    ext = native.native_module()
    if ext is None:
        raise SystemExit(f"trtplug._native is not available: {native.native_status()['native_module']}")
    missing = [op for op in ("moe", "qmoe") if op not in getattr(ext, "ops", ())]
    if missing:
        raise SystemExit(f"trtplug._native lacks {', '.join(missing)} (bash scripts/setup.sh builds it)")
    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU (torch.cuda.is_available() is False)")
    began = time.perf_counter()
    torch.manual_seed(args.seed)
    copy = copy_gbs(torch)
    print(f"{torch.cuda.get_device_name()}: device copy {copy:.0f} GB/s; device time from the profiler (CUPTI)")
    failures = run_all(torch, ext, layouts, tokens, variants(args.int8_block), args, copy)
    os.environ.pop(ENV, None)
    print(f"elapsed {time.perf_counter() - began:.0f} s")
    if failures:
        print(f"FAIL: {failures} group(s) failed (see the FAIL lines); their timings are left out")
        sys.exit(1)


def run_all(
    torch: Any, ext: Any, layouts: list[Layout], tokens: list[int], vs: list[Variant], args: Any, copy: float
) -> int:
    """Every group's rows, its winner and the summary; the number of groups that failed."""
    winners: dict[tuple[str, str, str], dict[int, str]] = {}  # (variant label, dtype, layout) -> tokens -> path
    failures = 0
    print(HEADER)
    for index, layout in enumerate(layouts):
        rng = np.random.default_rng(args.seed + 1000 * (index + 1))
        routes = {t: routing_sets(rng, t, layout.experts, layout.k) for t in tokens}
        xs = {t: torch.randn(t, layout.hidden, device=DEVICE) for t in tokens}
        for v in vs:
            weights, per_expert = expert_weights(torch, layout, v)
            for t in tokens:
                logits, distinct = routes[t]
                group = make_group(torch, ext, layout, v, weights, xs[t], logits)
                where = f"{layout.name:9s} {v.label:14s} {SHORT[v.dtype]:5s} {t:3d}"
                rows, problem = measure(torch, group, v, args.reps)
                if problem:
                    failures += 1
                    print(f"FAIL {where}: {problem}")
                    continue
                traffic = distinct * per_expert
                for row in rows:
                    gbs = traffic / row.device_us / 1e3
                    print(
                        f"{where} {row.path:4s} {row.device_us:9.1f} {row.gemm_us:8.1f} {row.wall_us:8.1f} "
                        f"{distinct:7d} {traffic / 1e6:7.1f} {gbs:6.0f} {gbs / copy:7.1%} {group.sets:4d}"
                    )
                best = min(rows, key=lambda r: r.device_us)
                other = " ".join(f"{r.path} {r.device_us / best.device_us:.2f}x" for r in rows if r is not best)
                print(f"{where} won: {best.path} (device time; {other})")
                winners.setdefault((v.label, v.dtype, layout.name), {})[t] = best.path
            del weights
            torch.cuda.empty_cache()
    summarize(winners)
    return failures


def measure(torch: Any, group: Group, v: Variant, reps: int) -> tuple[list[Row], str]:
    """The paths checked against each other, then timed; ([], why) on a failure of either."""
    reps = -(-reps // group.sets) * group.sets  # whole rotations
    try:
        problem = check_paths(torch, group, v)
        if problem:
            return [], problem
        rows = []
        for path in v.paths:
            row, problem = time_path(torch, group, path, reps)
            if row is None:
                return [], problem
            rows.append(row)
        return rows, ""
    except (RuntimeError, ValueError) as exc:  # the binding's checks, or a CUDA error
        return [], f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def summarize(winners: dict[tuple[str, str, str], dict[int, str]]) -> None:
    """Per (op/quant, dtype): the largest token count at which the GEMV still wins, per layout."""
    print("summary: the largest token count at which the GEMV wins (device time), per layout")
    keys = dict.fromkeys((label, dtype) for label, dtype, _ in winners)
    for label, dtype in keys:
        parts = []
        for (lab, dt, layout), by_tokens in winners.items():
            if (lab, dt) != (label, dtype):
                continue
            wins = [t for t, path in sorted(by_tokens.items()) if path == "gemv"]
            largest = max(wins) if wins else "never"
            parts.append(f"{layout} {largest} (wins at {','.join(map(str, wins)) or '-'} of {len(by_tokens)})")
        print(f"  {label} {SHORT[dtype]}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
