"""Norm-op bandwidth on a GPU: the CUDA launchers (what the plugins run) against torch's unfused
equivalents, as achieved bytes/s and as a fraction of a device-to-device copy measured in the
same run on buffers of the same size.

Bytes counted (the passes over device memory each op must make; gamma/beta/bias and the small
position/segment tables stay in L2 and are not counted):
  SkipLayerNorm / SkipSimplifiedLayerNorm: read input, read skip, write output = 3 n; with all
    optional outputs also the sum (4 n) and the per-row statistics. torch (x + skip, then
    layer_norm / RMS norm) is counted the same 3 n ("three passes"), so GB/s compare directly.
  EmbedLayerNorm: read word rows, write output = 2 n (torch: embedding lookups, adds, layer_norm).
Each tensor holds at least 256 MiB ("large sizes"); inputs rotate across buffers larger than L2;
median of CUDA-event timings over 10 back-to-back launches (host overhead hidden). Prints a table.
"""

from __future__ import annotations

import sys

import numpy as np

from trtplug.bench import rotation, time_ms

MIN_TOKENS = 32768
MIN_BYTES = 256 << 20  # per tensor
INNER = 10


def tokens_for(hidden: int, size: int, multiple: int = 512) -> int:
    tokens = max(MIN_TOKENS, MIN_BYTES // (hidden * size))
    return -(-tokens // multiple) * multiple


def timed(fn, sets: int) -> float:
    return time_ms(fn, sets, reps=15, inner=INNER)


def random(cp, shape: tuple[int, ...], dtype: str):
    return cp.random.standard_normal(shape, dtype=cp.float32).astype(dtype)


def skip_norm_case(cp, torch, ext, dtype: str, hidden: int, rms: bool) -> dict[str, tuple[float, int]]:
    """{impl: (ms, bytes counted)} for one dtype and hidden size."""
    size = np.dtype(dtype).itemsize
    tokens = tokens_for(hidden, size)
    n = tokens * hidden
    sets = rotation(3 * n * size)
    xs = [random(cp, (tokens, hidden), dtype) for _ in range(sets)]
    skips = [random(cp, (tokens, hidden), dtype) for _ in range(sets)]
    gamma, beta, bias = (random(cp, (hidden,), dtype) for _ in range(3))
    y, total = cp.empty_like(xs[0]), cp.empty_like(xs[0])
    stats = [cp.empty((tokens, 1), cp.float32) for _ in range(2)]
    if rms:
        fused = ext.skip_simplified_layer_norm
        run = lambda i, outs, b: fused(xs[i], skips[i], gamma, outs, b, 1e-6)  # noqa: E731
    else:
        fused = ext.skip_layer_norm
        run = lambda i, outs, b: fused(xs[i], skips[i], gamma, outs, beta, b, 1e-6)  # noqa: E731
    results = {
        "copy": (timed(lambda i: y.__setitem__(Ellipsis, xs[i]), sets), 2 * n * size),
        "cuda": (timed(lambda i: run(i, [y], None), sets), 3 * n * size),
        "cuda+bias+all": (timed(lambda i: run(i, [y, *stats, total], bias), sets), 4 * n * size + 8 * tokens),
    }
    if torch is not None:
        import torch.nn.functional as F

        tx, ts = ([torch.as_tensor(a, device="cuda") for a in arrays] for arrays in (xs, skips))
        tg, tb = torch.as_tensor(gamma, device="cuda"), torch.as_tensor(beta, device="cuda")
        if rms:
            rms_norm = getattr(F, "rms_norm", None) or (
                lambda s, shape, w, eps: s * torch.rsqrt(s.float().pow(2).mean(-1, keepdim=True) + eps).to(s.dtype) * w
            )
            ref = lambda i: rms_norm(tx[i] + ts[i], (hidden,), tg, 1e-6)  # noqa: E731
        else:
            ref = lambda i: F.layer_norm(tx[i] + ts[i], (hidden,), tg, tb, 1e-6)  # noqa: E731
        results["torch"] = (timed(ref, sets), 3 * n * size)
    return results


def embed_case(cp, torch, ext, dtype: str, hidden: int) -> dict[str, tuple[float, int]]:
    size = np.dtype(dtype).itemsize
    tokens = tokens_for(hidden, size)
    n = tokens * hidden
    sets = rotation(2 * n * size)
    vocab, seq = 30522, 512
    word = random(cp, (vocab, hidden), dtype)
    pos, seg = random(cp, (seq, hidden), dtype), random(cp, (2, hidden), dtype)
    gamma, beta = random(cp, (hidden,), dtype), random(cp, (hidden,), dtype)
    shape = (tokens // seq, seq)
    ids = [cp.random.randint(0, vocab, shape, dtype=cp.int32) for _ in range(sets)]
    segs = cp.random.randint(0, 2, shape, dtype=cp.int32)
    src = [random(cp, (*shape, hidden), dtype) for _ in range(sets)]
    mask = cp.ones(shape, cp.int32)
    y, mask_index = cp.empty((*shape, hidden), dtype), cp.empty(shape[0], cp.int32)

    def run(i, outs, mask_or_none):
        ext.embed_layer_norm(ids[i], segs, word, pos, seg, gamma, beta, mask_or_none, None, outs)

    results = {
        "copy": (timed(lambda i: y.__setitem__(Ellipsis, src[i]), sets), 2 * n * size),
        "cuda": (timed(lambda i: run(i, [y], None), sets), 2 * n * size),
        "cuda+mask": (timed(lambda i: run(i, [y, mask_index], mask), sets), 2 * n * size),
    }
    if torch is not None:
        import torch.nn.functional as F

        tables = {"w": word, "p": pos, "s": seg, "g": gamma, "b": beta}
        t = {k: torch.as_tensor(v, device="cuda") for k, v in tables.items()}
        tids = [torch.as_tensor(a, device="cuda").long() for a in ids]
        tsegs = torch.as_tensor(segs, device="cuda").long()
        positions = torch.arange(seq, device="cuda")

        def ref(i):
            e = F.embedding(tids[i], t["w"]) + F.embedding(positions, t["p"]) + F.embedding(tsegs, t["s"])
            return F.layer_norm(e, (hidden,), t["g"], t["b"], 1e-12)

        results["torch"] = (timed(ref, sets), 2 * n * size)
    return results


def report(op: str, dtype: str, hidden: int, results: dict[str, tuple[float, int]]) -> None:
    copy_ms, copy_bytes = results["copy"]
    copy_gbs = copy_bytes / copy_ms / 1e6
    for name, (ms, nbytes) in results.items():
        gbs = nbytes / ms / 1e6
        ratio = f"{results['torch'][0] / ms:8.2f}" if "torch" in results else "       -"
        print(f"{op:16} {dtype:8} {hidden:6} {name:14} {ms:8.3f} {gbs:8.0f} {100 * gbs / copy_gbs:5.0f}% {ratio}")


def main() -> int:
    try:
        import cupy as cp
    except ImportError:
        print("bench_norm: needs CuPy and a CUDA GPU", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext = native_module()
    try:
        import torch
    except ImportError:
        torch = None
    print(f">= {MIN_BYTES >> 20} MiB per tensor; GB/s from the bytes each op must move; %copy: of a same-size copy")
    print(f"{'op':16} {'dtype':8} {'hidden':>6} {'impl':14} {'ms':>8} {'GB/s':>8} {'%copy':>6} {'x torch':>8}")
    for dtype in ("float16", "float32"):
        for hidden in (768, 1024, 4096):
            for op, rms in (("SkipLayerNorm", False), ("SkipSimplifiedLN", True)):
                report(op, dtype, hidden, skip_norm_case(cp, torch, ext, dtype, hidden, rms))
                cp.get_default_memory_pool().free_all_blocks()
            report("EmbedLayerNorm", dtype, hidden, embed_case(cp, torch, ext, dtype, hidden))
            cp.get_default_memory_pool().free_all_blocks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
