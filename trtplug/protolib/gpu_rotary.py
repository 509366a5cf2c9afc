"""The RotaryEmbedding prototypes' fast path on the GPU: one RawKernel in place of the ~15 CuPy
array ops of trtplug/protolib/rotary.py (gather, transposes, slices, stack, concatenates), which
moved every byte several times and ran at a few percent of copy bandwidth on the H200.

Each thread writes one 16-byte vector of the output (N = 16 / sizeof(T) elements) in a grid-stride
loop: it decodes the (batch, head, token) row of the vector for the layout ([B, N, S, H] or
[B, S, N * H]), the cache row of the token (position_ids[b, s], offset + s for com.microsoft's [1]
form, or the token itself for ai.onnx's per-token caches), then rotates its elements with the
float32 cos/sin of that row (storage type of x, read with ld()); dims past rotary_dim are copied.
A vector never straddles the rotary boundary nor, half-split, the rotate halves: the host checks
H, rotary_dim / 2 (interleaved: rotary_dim) are whole vectors and otherwise declines (False), as
for non-contiguous or unaligned tensors, so the caller falls back to the array path."""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from trtplug.protolib.gpu_source import (
    CTYPES,
    FLOAT_CONVERSIONS,
    VECTOR_HEAD,
    grid_blocks,
    overlaps,
    per_vector,
    pointer_args,
    storage_dtype,
    vector_ready,
    vectors_enabled,
)

# How token s of batch b finds its cache row (the kernel's `mode` argument).
PER_TOKEN, POSITION_IDS, OFFSET = 0, 1, 2
THREADS = 256

_ROTARY_SOURCE = r"""
// Half a vector: the N / 2 cos (or sin) values of an interleaved vector's N / 2 pairs.
struct alignas(8) HalfVec { T v[N / 2]; };

// 64-bit division is a ~70-instruction subroutine and this kernel does three per 16 bytes moved;
// below 2^31 (every launch short of 32 GiB of fp16) the 32-bit one keeps it memory-bound.
__device__ __forceinline__ long long div64(long long a, long long b) {
    return ((unsigned long long)(a | b) >> 31) == 0 ? (long long)((unsigned)a / (unsigned)b) : a / b;
}

// Cache row of token s of batch b, or -1 for a position outside [0, max_pos). batch_rows (1 or B)
// is the batch extent of position_ids or of the per-token caches: 1 shares row s by every batch.
__device__ __forceinline__ long long cache_row(const long long* pos, int mode, long long b, long long s,
                                               long long tokens, long long batch_rows, long long max_pos) {
    const long long token = (batch_rows == 1 ? 0 : b) * tokens + s;
    if (mode == 0) return token;  // per-token caches: one row per token, always inside
    const long long p = mode == 2 ? pos[0] + s : pos[token];
    return p >= 0 && p < max_pos ? p : -1;
}

extern "C" __global__ void trtplug_rotary(const Vec* __restrict__ x, const T* __restrict__ cosc,
    const T* __restrict__ sinc, const long long* __restrict__ pos, Vec* __restrict__ y, long long vectors,
    long long head_vectors, long long heads, long long tokens, long long half, long long rot_vectors,
    long long max_pos, long long batch_rows, int mode)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < vectors;
         i += (long long)gridDim.x * blockDim.x) {
        const long long row = div64(i, head_vectors), jv = i - row * head_vectors;
#if BNSH
        const long long bn = div64(row, tokens), b = div64(bn, heads);  // rows run (b, n, s)
        const long long s = row - bn * tokens;
#else
        const long long bs = div64(row, heads), b = div64(bs, tokens);  // rows run (b, s, n)
        const long long s = bs - b * tokens;
#endif
        const long long r = cache_row(pos, mode, b, s, tokens, batch_rows, max_pos);
        Vec yv;
        if (r < 0 || jv >= rot_vectors) {  // past rotary_dim, or a position outside the cache: copied
            // (the CUDA plugin's rule for bad positions: enqueue cannot raise, the cache is not read)
            y[i] = x[i];
            continue;
        }
        const Vec xv = x[i];
#if INTERLEAVED
        // pairs (2p, 2p+1) lie inside the vector; its N / 2 pairs use cache entries jv * N / 2 on.
        const HalfVec cv = reinterpret_cast<const HalfVec*>(cosc + r * half)[jv];
        const HalfVec sv = reinterpret_cast<const HalfVec*>(sinc + r * half)[jv];
#pragma unroll
        for (int p = 0; p < N / 2; ++p) {
            const float x0 = ld(xv.v[2 * p]), x1 = ld(xv.v[2 * p + 1]), c = ld(cv.v[p]), sn = ld(sv.v[p]);
            st(yv.v[2 * p], x0 * c - x1 * sn);
            st(yv.v[2 * p + 1], x1 * c + x0 * sn);
        }
#else
        // dim j < R/2 pairs with j + R/2: lo -> x*c - partner*s, hi -> x*c + partner*s, both with
        // the cache entry of the lower dim; the partner vector sits half_vectors away in the row.
        const long long half_vectors = rot_vectors / 2;
        const bool lo = jv < half_vectors;
        const Vec pv = x[lo ? i + half_vectors : i - half_vectors];
        const long long cj = lo ? jv : jv - half_vectors;
        const Vec cv = reinterpret_cast<const Vec*>(cosc + r * half)[cj];
        const Vec sv = reinterpret_cast<const Vec*>(sinc + r * half)[cj];
        const float sign = lo ? -1.f : 1.f;
#pragma unroll
        for (int k = 0; k < N; ++k) st(yv.v[k], ld(xv.v[k]) * ld(cv.v[k]) + sign * (ld(pv.v[k]) * ld(sv.v[k])));
#endif
        y[i] = yv;
    }
}
"""


def rotary_source(ctype: str, interleaved: bool, bnsh: bool) -> str:
    """The CUDA source of one form (a function so a test can compile every form with nvcc)."""
    head = f"#define T {ctype}\n#define INTERLEAVED {int(interleaved)}\n#define BNSH {int(bnsh)}\n"
    return head + FLOAT_CONVERSIONS + VECTOR_HEAD + _ROTARY_SOURCE


@cache
def _rotary_kernel(dtype: str, interleaved: bool, bnsh: bool) -> Any:
    import cupy

    return cupy.RawKernel(rotary_source(CTYPES[dtype], interleaved, bnsh), "trtplug_rotary")


def _geometry(x: Any, heads: int) -> tuple[int, int, int, int] | None:
    """(batch, heads, tokens, head_dim) of [B, N, S, H] or [B, S, N * H]; None if it does not split."""
    if x.ndim == 4:
        return x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    if x.ndim != 3 or heads <= 0 or x.shape[2] % heads:
        return None
    return x.shape[0], heads, x.shape[1], x.shape[2] // heads


def _position_form(xp: ModuleType, positions: Any, cos: Any, batch: int, tokens: int) -> tuple | None:
    """(mode, int64 positions or None, batch_rows) when the positions and caches fit one of the
    three forms the kernel reads; None otherwise (the array path then decides)."""
    if positions is None:  # per-token caches [B or 1, S, R/2]
        fits = cos.ndim == 3 and cos.shape[0] in (1, batch) and cos.shape[1] == tokens
        return (PER_TOKEN, None, cos.shape[0]) if fits else None
    if cos.ndim != 2:
        return None
    if positions.shape == (1,):
        mode, batch_rows = OFFSET, 1
    elif positions.ndim == 2 and positions.shape[0] in (1, batch) and positions.shape[1] == tokens:
        mode, batch_rows = POSITION_IDS, positions.shape[0]
    else:
        return None
    return mode, xp.ascontiguousarray(positions, dtype=xp.int64), batch_rows  # no copy if int64 and dense


def _vectors_fit(x: Any, cos: Any, sin: Any, out: Any, head_dim: int, rot: int, interleaved: bool) -> bool:
    """The tensors are one dense aligned float type, and no vector straddles a head, the rotary
    boundary or (half-split) the two rotate halves."""
    if out.shape != x.shape or sin.shape != cos.shape or rot % 2 or not 0 < rot <= head_dim:
        return False
    if cos.shape[-1] != rot // 2 or not vector_ready([x, cos, sin, out], head_dim):
        return False
    return (rot if interleaved else rot // 2) % per_vector(x) == 0 and not overlaps(x, out)


def rotary(
    xp: ModuleType,
    x: Any,
    cos: Any,
    sin: Any,
    positions: Any | None,
    out: Any,
    heads: int,
    rotary_dim: int,
    interleaved: bool,
) -> bool:
    """out = RotaryEmbedding(x) in one kernel (trtplug/protolib/rotary.py's rotary_embedding, with
    positions [B or 1, S], a [1] offset, or None for per-token caches); False, nothing written,
    where the kernel does not apply (or TRTPLUG_PROTO_VECTOR=0)."""
    geometry = _geometry(x, heads)
    if not vectors_enabled() or geometry is None:
        return False
    batch, heads, tokens, head_dim = geometry
    rot = rotary_dim or head_dim
    if not _vectors_fit(x, cos, sin, out, head_dim, rot, interleaved):
        return False
    form = _position_form(xp, positions, cos, batch, tokens)
    if form is None:
        return False
    mode, ids, batch_rows = form
    per = per_vector(x)
    vectors = x.size // per
    sizes = (vectors, head_dim // per, heads, tokens, rot // 2, rot // per, cos.shape[0], batch_rows)
    args = (*pointer_args([x, cos, sin, ids, out]), *(xp.int64(v) for v in sizes), xp.int32(mode))
    kernel = _rotary_kernel(storage_dtype(x), bool(interleaved), x.ndim == 4)
    kernel((grid_blocks(vectors, THREADS),), (THREADS,), args)
    return True
