"""The row-norm prototypes' fast path on the GPU (SkipLayerNorm, SkipSimplifiedLayerNorm,
RMSNormalization, SimplifiedLayerNormalization): one block per row, S = x (+ skip) (+ bias),
mean (0 for RMS) and inv_std_var over the row, y = (S - mean) * inv * gamma (+ beta), statistics
in float32 and a two-pass variance, as the CUDA plugins compute them.

Rows that are a whole number of 16-byte vectors, at most 8 vectors per thread of a 256-thread
block (8,192 fp32 or 16,384 fp16/bf16 elements), are held in registers and read from memory
once, 16 bytes per access. Other rows take a loop kernel that re-reads the row (from L1/L2) in
each of its three passes, one element per access."""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import storage
from trtplug.protolib.gpu_source import (
    CTYPES,
    FLOAT_CONVERSIONS,
    VECTOR_HEAD,
    assign,
    dense,
    empty_like,
    per_vector,
    pointer_args,
    storage_dtype,
    vector_ready,
    vectors_enabled,
)

MAX_VECTORS_PER_THREAD = 8
THREADS = 256

_BLOCK_SUM = r"""
__device__ float block_sum(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();  // shared is reused by the next reduction
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float total = 0.f;
    for (int w = 0; w < (blockDim.x + 31) / 32; ++w) total += shared[w];
    return total;
}
"""

_LOOP_SOURCE = r"""
__device__ __forceinline__ float row_sum(const T* x, const T* skip, const T* bias, long long xo, long long so,
                                         long long j) {
    return ld(x[xo + j]) + (skip ? ld(skip[so + j]) : 0.f) + (bias ? ld(bias[j]) : 0.f);
}

extern "C" __global__ void trtplug_row_norm_loop(
    const T* x, const T* skip, const T* gamma, const T* beta, const T* bias, T* y, float* mean_out,
    float* inv_out, T* sum_out, long long rows, long long hidden, long long skip_rows, float eps, int rms)
{
    __shared__ float shared[32];
    const long long r = blockIdx.x;
    const long long xo = r * hidden, so = (r % skip_rows) * hidden;
    float local = 0.f;
    for (long long j = threadIdx.x; j < hidden; j += blockDim.x) local += row_sum(x, skip, bias, xo, so, j);
    const float mean = rms ? 0.f : block_sum(local, shared) / (float)hidden;
    local = 0.f;
    for (long long j = threadIdx.x; j < hidden; j += blockDim.x) {
        const float d = row_sum(x, skip, bias, xo, so, j) - mean;
        local += d * d;
    }
    const float inv = rsqrtf(block_sum(local, shared) / (float)hidden + eps);
    for (long long j = threadIdx.x; j < hidden; j += blockDim.x) {
        const float s = row_sum(x, skip, bias, xo, so, j);
        st(y[xo + j], (s - mean) * inv * ld(gamma[j]) + (beta ? ld(beta[j]) : 0.f));
        if (sum_out) st(sum_out[xo + j], s);
    }
    if (threadIdx.x == 0) {
        if (mean_out) mean_out[r] = mean;
        if (inv_out) inv_out[r] = inv;
    }
}
"""

# Thread t holds vectors t, t + blockDim.x, ... (MAXV at most) of its row as floats in registers;
# normalize_store finishes a row from them, for the row-norm and the embedding kernels alike.
_VECTOR_COMMON = r"""
__device__ __forceinline__ void normalize_store(float (&s)[MAXV][N], float local, int vectors, const Vec* gamma,
    const Vec* beta, Vec* y, Vec* sum_out, long long r, float* mean_out, float* inv_out, float eps, int rms,
    float* shared)
{
    const long long yo = r * vectors;
    const float count = (float)vectors * N;
    const float mean = rms ? 0.f : block_sum(local, shared) / count;
    local = 0.f;
#pragma unroll
    for (int k = 0; k < MAXV; ++k) {
        if (threadIdx.x + k * blockDim.x >= vectors) break;
#pragma unroll
        for (int e = 0; e < N; ++e) local += (s[k][e] - mean) * (s[k][e] - mean);
    }
    const float inv = rsqrtf(block_sum(local, shared) / count + eps);
#pragma unroll
    for (int k = 0; k < MAXV; ++k) {
        const int j = threadIdx.x + k * blockDim.x;
        if (j >= vectors) break;
        const Vec gv = gamma[j];
        Vec bv = gv, out, sum;
        if (beta) bv = beta[j];
#pragma unroll
        for (int e = 0; e < N; ++e) {
            st(out.v[e], (s[k][e] - mean) * inv * ld(gv.v[e]) + (beta ? ld(bv.v[e]) : 0.f));
            st(sum.v[e], s[k][e]);
        }
        y[yo + j] = out;
        if (sum_out) sum_out[yo + j] = sum;
    }
    if (threadIdx.x == 0) {
        if (mean_out) mean_out[r] = mean;
        if (inv_out) inv_out[r] = inv;
    }
}
"""

_VECTOR_SOURCE = r"""
extern "C" __global__ void trtplug_row_norm_vector(
    const Vec* x, const Vec* skip, const Vec* gamma, const Vec* beta, const Vec* bias, Vec* y, float* mean_out,
    float* inv_out, Vec* sum_out, long long rows, int vectors, long long skip_rows, float eps, int rms)
{
    __shared__ float shared[32];
    const long long r = blockIdx.x;
    const long long xo = r * vectors, so = (r % skip_rows) * vectors;
    float s[MAXV][N];
    float local = 0.f;
#pragma unroll
    for (int k = 0; k < MAXV; ++k) {
        const int j = threadIdx.x + k * blockDim.x;
        if (j >= vectors) break;
        const Vec xv = x[xo + j];
        Vec sv = xv, bv = xv;  // read only where skip/bias exist
        if (skip) sv = skip[so + j];
        if (bias) bv = bias[j];
#pragma unroll
        for (int e = 0; e < N; ++e) {
            s[k][e] = ld(xv.v[e]) + (skip ? ld(sv.v[e]) : 0.f) + (bias ? ld(bv.v[e]) : 0.f);
            local += s[k][e];
        }
    }
    normalize_store(s, local, vectors, gamma, beta, y, sum_out, r, mean_out, inv_out, eps, rms, shared);
}
"""

# EmbedLayerNorm: row r = token (b, s) sums word[ids[r]] + position[position_ids[r] or s]
# (+ segment[segment_ids[r]]); an index outside its table gives a NaN row and reads nothing.
_EMBED_SOURCE = r"""
extern "C" __global__ void trtplug_embed_norm_vector(
    const int* ids, const int* segment_ids, const int* position_ids, const Vec* word, const Vec* position,
    const Vec* segment, const Vec* gamma, const Vec* beta, Vec* y, Vec* sum_out, long long word_rows,
    long long position_rows, long long segment_rows, long long seq, int vectors, float eps)
{
    __shared__ float shared[32];
    const long long r = blockIdx.x;
    const long long w = ids[r], p = position_ids ? position_ids[r] : r % seq, g = segment_ids ? segment_ids[r] : 0;
    const bool inside = w >= 0 && w < word_rows && p >= 0 && p < position_rows
        && (!segment_ids || (g >= 0 && g < segment_rows));
    float s[MAXV][N];
    float local = 0.f;
#pragma unroll
    for (int k = 0; k < MAXV; ++k) {
        const int j = threadIdx.x + k * blockDim.x;
        if (j >= vectors) break;
        if (!inside) {
#pragma unroll
            for (int e = 0; e < N; ++e) s[k][e] = __int_as_float(0x7fc00000);
            continue;
        }
        const Vec wv = word[w * vectors + j], pv = position[p * vectors + j];
        Vec gv = wv;  // read only with segments
        if (segment_ids) gv = segment[g * vectors + j];
#pragma unroll
        for (int e = 0; e < N; ++e) {
            s[k][e] = ld(wv.v[e]) + ld(pv.v[e]) + (segment_ids ? ld(gv.v[e]) : 0.f);
            local += s[k][e];
        }
    }
    normalize_store(s, inside ? local : __int_as_float(0x7fc00000), vectors, gamma, beta, y, sum_out, r, nullptr,
                    nullptr, eps, 0, shared);
}
"""


def row_norm_source(ctype: str, vectors_per_thread: int = 0) -> str:
    """The CUDA source for one storage type: the loop kernel (0) or the register-held vector kernel
    for rows of up to `vectors_per_thread` vectors a thread (a test compiles each with nvcc)."""
    if vectors_per_thread:
        return _vector_head(ctype, vectors_per_thread) + _VECTOR_SOURCE
    return f"#define T {ctype}\n" + FLOAT_CONVERSIONS + _BLOCK_SUM + _LOOP_SOURCE


def _vector_head(ctype: str, vectors_per_thread: int) -> str:
    head = f"#define T {ctype}\n#define MAXV {vectors_per_thread}\n"
    return head + FLOAT_CONVERSIONS + VECTOR_HEAD + _BLOCK_SUM + _VECTOR_COMMON


def embed_norm_source(ctype: str, vectors_per_thread: int) -> str:
    """The EmbedLayerNorm kernel's CUDA source (register-held rows only)."""
    return _vector_head(ctype, vectors_per_thread) + _EMBED_SOURCE


@cache
def _kernel(dtype: str, vectors_per_thread: int) -> Any:
    import cupy

    name = "trtplug_row_norm_vector" if vectors_per_thread else "trtplug_row_norm_loop"
    return cupy.RawKernel(row_norm_source(CTYPES[dtype], vectors_per_thread), name)


def vector_layout(vectors: int) -> tuple[int, int] | None:
    """(threads, vectors per thread: 1, 2, 4 or 8) of the register-held kernel for a row of
    `vectors` 16-byte vectors, or None when the row is too long for it."""
    if vectors < 1:
        return None  # a row narrower than one vector
    threads = min(THREADS, -(-vectors // 32) * 32)
    need = -(-vectors // threads)
    fitted = next((v for v in (1, 2, 4, 8) if v >= need), None)
    return None if fitted is None or fitted > MAX_VECTORS_PER_THREAD else (threads, fitted)


def _one_per_column(tensors: list[Any], hidden: int) -> bool:
    """gamma/beta/bias (None: absent) hold one element per column; one broadcast from fewer
    elements is left to the array path."""
    return all(a is None or storage(a).size == hidden for a in tensors)


def row_norm(
    xp: ModuleType, tensors: tuple[Any, Any, Any, Any, Any], hidden: int, outputs: list[Any], epsilon: float, rms: bool
) -> bool:
    """outputs [y, mean?, inv_std_var?, sum?] (None: not wanted) of the rows of `hidden` elements of
    (x, skip, gamma, beta, bias) (skip's rows repeat over x's; skip, beta, bias may be None);
    False when x's dtype has no fast path (nothing written)."""
    x = tensors[0]
    if storage_dtype(x) not in CTYPES or storage(x).size == 0 or hidden == 0:
        return False
    if not _one_per_column(tensors[2:], hidden):
        return False
    dense_in = [dense(xp, a) for a in tensors]
    wanted = [*outputs, None, None, None][:4]
    results = [o if o is None or storage(o).flags.c_contiguous else empty_like(xp, o) for o in wanted]
    rows, skip_rows = storage(x).size // hidden, 1 if tensors[1] is None else storage(tensors[1]).size // hidden
    layout = vector_layout(hidden // per_vector(x))
    typed = [*dense_in, results[0], results[3]]
    vector = vectors_enabled() and layout is not None and vector_ready(typed, hidden)
    threads, per_thread = layout if vector else (THREADS, 0)
    extent = hidden // per_vector(x) if vector else hidden
    pointers = pointer_args([*dense_in, results[0], results[1], results[2], results[3]])
    scalars = (xp.int64(rows), (xp.int32 if vector else xp.int64)(extent), xp.int64(skip_rows))
    scalars += (xp.float32(epsilon), xp.int32(rms))
    _kernel(storage_dtype(x), per_thread)((rows,), (threads,), (*pointers, *scalars))
    for out, result in zip(wanted, results, strict=True):
        if out is not None and out is not result:
            assign(out, result)
    return True


@cache
def _embed_kernel(dtype: str, vectors_per_thread: int) -> Any:
    import cupy

    return cupy.RawKernel(embed_norm_source(CTYPES[dtype], vectors_per_thread), "trtplug_embed_norm_vector")


def _int32_dense(xp: ModuleType, array: Any) -> Any:
    return None if array is None else xp.ascontiguousarray(array, dtype=xp.int32)


def embed_norm(xp: ModuleType, named: dict[str, Any], output: Any, embedding_sum: Any, epsilon: float) -> bool:
    """EmbedLayerNorm's output (and embedding_sum, None when not wanted) in one register-held
    kernel; False (nothing written) when the tables cannot take it (odd or too wide rows, mixed
    or unaligned storage, position_ids not shaped like input_ids)."""
    word, ids = named["word_embedding"], named["input_ids"]
    hidden = word.shape[-1] if word.ndim == 2 else 0
    positions, segments = named["position_ids"], named["segment_ids"]
    tables = [word, named["position_embedding"], named["segment_embedding"] if segments is not None else None]
    floats = [*tables, named["gamma"], named["beta"], output, embedding_sum]
    layout = vector_layout(hidden // per_vector(word)) if hidden else None
    shaped = positions is None or positions.shape == ids.shape
    if not vectors_enabled() or layout is None or not shaped or ids.size == 0 or not vector_ready(floats, hidden):
        return False
    if not _one_per_column([named["gamma"], named["beta"]], hidden):
        return False
    threads, per_thread = layout
    indices = [_int32_dense(xp, a) for a in (ids, segments, positions)]
    rows = [xp.int64(0 if t is None else t.shape[0]) for t in tables]
    args = (*pointer_args([*indices, *tables, named["gamma"], named["beta"], output, embedding_sum]), *rows)
    args += (xp.int64(ids.shape[-1]), xp.int32(hidden // per_vector(word)), xp.float32(epsilon))
    _embed_kernel(storage_dtype(word), per_thread)((ids.size,), (threads,), args)
    return True
