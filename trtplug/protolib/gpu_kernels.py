"""The prototypes' fast paths on the GPU: the same math as their NumPy expressions, compiled by
CuPy into one kernel per op form (ElementwiseKernel, RawKernel) instead of one CuPy call per
operator, so a prototype moves each byte once (issue: prototypes worth deploying). The NumPy
expressions stay the CPU path; the parity suite checks both against the independent reference.
Kernels are built on first use and cached per form and dtype."""

from __future__ import annotations

import os
from functools import cache
from types import ModuleType
from typing import Any


def is_cupy(xp: ModuleType) -> bool:
    return getattr(xp, "__name__", "") == "cupy"


@cache
def _bias_activation_kernel(expr: str, params: tuple[str, ...], has_bias: bool, has_skip: bool) -> Any:
    import cupy

    inputs = ["X x"] + (["B b"] if has_bias else []) + (["S s"] if has_skip else [])
    inputs += [f"float32 {p}" for p in params]
    body = "float v = (float)x" + (" + (float)b" if has_bias else "") + ";\n"
    body += f"float r = {expr};\n"
    body += "y = (Y)(r" + (" + (float)s" if has_skip else "") + ");"
    name = f"trtplug_bias_act_{abs(hash((expr, params, has_bias, has_skip)))}"
    return cupy.ElementwiseKernel(", ".join(inputs), "Y y", body, name)


# float32 math on fp32/fp16 storage, shared by the RawKernel sources below.
_FLOAT_CONVERSIONS = r"""
#include <cuda_fp16.h>
__device__ __forceinline__ float ld(float x) { return x; }
__device__ __forceinline__ float ld(__half x) { return __half2float(x); }
__device__ __forceinline__ void st(float& d, float v) { d = v; }
__device__ __forceinline__ void st(__half& d, float v) { d = __float2half_rn(v); }
"""
_CTYPES = {"float32": "float", "float16": "__half"}

# Y = act(X + bias) + skip moving 16-byte vectors (4 floats, 8 halves) per thread and step, for
# contiguous aligned tensors of one dtype whose last axis is a whole number of vectors: CuPy's
# ElementwiseKernel moves one element per thread and step and ran at ~200 G elements/s on the
# H200 in fp32 and fp16 alike (41% / 20% of copy), instruction-bound. Opt-in
# (TRTPLUG_PROTO_VECTOR=1) until a GPU run verifies it against that kernel.
_VECTOR_ACTIVATION_SOURCE = r"""
constexpr int N = 16 / sizeof(T);
struct alignas(16) Vec { T v[N]; };

extern "C" __global__ void trtplug_vector_bias_act(const Vec* __restrict__ x, const Vec* __restrict__ b,
    const Vec* __restrict__ s, Vec* __restrict__ y, long long vectors, long long width_vectors PARAMS)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < vectors;
         i += (long long)gridDim.x * blockDim.x) {
        const Vec xv = x[i];
        Vec bv, sv, yv;
        if (HAS_BIAS) bv = b[i % width_vectors];
        if (HAS_SKIP) sv = s[i];
#pragma unroll
        for (int k = 0; k < N; ++k) {
            const float v = ld(xv.v[k]) + (HAS_BIAS ? ld(bv.v[k]) : 0.f);
            const float r = EXPR;
            st(yv.v[k], r + (HAS_SKIP ? ld(sv.v[k]) : 0.f));
        }
        y[i] = yv;
    }
}
"""


def vector_activation_source(expr: str, params: tuple[str, ...], ctype: str, has_bias: bool, has_skip: bool) -> str:
    """The CUDA source of one vectorized form (a function so a test can compile it with nvcc)."""
    defines = {"T": ctype, "HAS_BIAS": int(has_bias), "HAS_SKIP": int(has_skip), "EXPR": f"({expr})"}
    head = "".join(f"#define {k} {v}\n" for k, v in defines.items())
    head += "#define PARAMS " + "".join(f", float {p}" for p in params) + "\n"
    return head + _FLOAT_CONVERSIONS + _VECTOR_ACTIVATION_SOURCE


@cache
def _vector_activation_kernel(expr: str, params: tuple[str, ...], dtype: str, has_bias: bool, has_skip: bool) -> Any:
    import cupy

    source = vector_activation_source(expr, params, _CTYPES[dtype], has_bias, has_skip)
    return cupy.RawKernel(source, "trtplug_vector_bias_act")


@cache
def _multiprocessors(device: int) -> int:
    """SMs of `device`, asked once: Device().attributes queries every attribute, too slow per call."""
    import cupy

    return int(cupy.cuda.Device(device).attributes["MultiProcessorCount"])


def _vector_ready(x: Any, bias: Any, skip: Any, out: Any) -> bool:
    """The vector kernel applies: one dtype, contiguous and 16-byte aligned, bias [last axis]."""
    if os.environ.get("TRTPLUG_PROTO_VECTOR") != "1" or str(x.dtype) not in ("float32", "float16") or x.size == 0:
        return False
    per = 16 // x.dtype.itemsize
    tensors = [t for t in (x, bias, skip, out) if t is not None]
    same = all(t.dtype == x.dtype and t.flags.c_contiguous and t.data.ptr % 16 == 0 for t in tensors)
    shaped = out.shape == x.shape and (skip is None or skip.shape == x.shape)
    return same and shaped and x.shape[-1] % per == 0 and (bias is None or bias.shape == (x.shape[-1],))


def bias_activation(x: Any, bias: Any, skip: Any, out: Any, expr: str, params: dict[str, float]) -> None:
    """out = expr(v = x + bias) + skip in one pass; bias/skip None when absent, broadcast as NumPy does."""
    if _vector_ready(x, bias, skip, out):
        import cupy

        kernel = _vector_activation_kernel(expr, tuple(params), str(x.dtype), bias is not None, skip is not None)
        per = 16 // x.dtype.itemsize
        vectors = x.size // per
        blocks = min(-(-vectors // 256), _multiprocessors(cupy.cuda.runtime.getDevice()) * 16)
        pointers = [t if t is not None else 0 for t in (x, bias, skip, out)]
        scalars = [cupy.int64(vectors), cupy.int64(x.shape[-1] // per)] + [cupy.float32(v) for v in params.values()]
        kernel((blocks,), (256,), (*pointers, *scalars))
        return
    kernel = _bias_activation_kernel(expr, tuple(params), bias is not None, skip is not None)
    args = [a for a in (x, bias, skip) if a is not None] + [float(v) for v in params.values()]
    kernel(*args, out)


@cache
def _split_gelu_kernel() -> Any:
    import cupy

    body = """
    ptrdiff_t row = i / half, col = i % half;
    const ptrdiff_t base = row * 2 * half;
    float a = (float)x[base + col] + (float)b[col];
    float g = (float)x[base + col + half] + (float)b[col + half];
    y = (Y)(a * (0.5f * g * erfcf(-0.70710678118654752f * g)));
    """
    return cupy.ElementwiseKernel("raw X x, raw B b, int64 half", "Y y", body, "trtplug_bias_split_gelu")


def bias_split_gelu(xp: ModuleType, x: Any, bias: Any, out: Any) -> None:
    """out[..., j] = v[..., j] * gelu(v[..., j + D/2]), v = x + bias, over contiguous rows."""
    _split_gelu_kernel()(xp.ascontiguousarray(x), xp.ascontiguousarray(bias), x.shape[-1] // 2, out)


_SKIP_NORM_SOURCE = r"""
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

// One block per row: S = x + skip (+ bias); mean (0 for RMS), inv_std_var over the row; then
// y = (S - mean) * inv * gamma (+ beta). Two-pass variance like the CUDA plugin; the row is
// re-read from L1/L2, so DRAM sees it once.
extern "C" __global__ void trtplug_skip_norm(
    const T* x, const T* skip, const T* gamma, const T* beta, const T* bias, T* y, float* mean_out,
    float* inv_out, T* sum_out, long long rows, long long hidden, long long skip_rows, float eps, int rms)
{
    __shared__ float shared[32];
    const long long r = blockIdx.x;
    if (r >= rows) return;
    const long long xo = r * hidden, so = (r % skip_rows) * hidden;
    float local = 0.f;
    for (long long j = threadIdx.x; j < hidden; j += blockDim.x) {
        float s = ld(x[xo + j]) + ld(skip[so + j]) + (bias ? ld(bias[j]) : 0.f);
        local += s;
    }
    const float mean = rms ? 0.f : block_sum(local, shared) / (float)hidden;
    local = 0.f;
    for (long long j = threadIdx.x; j < hidden; j += blockDim.x) {
        float d = ld(x[xo + j]) + ld(skip[so + j]) + (bias ? ld(bias[j]) : 0.f) - mean;
        local += d * d;
    }
    const float inv = rsqrtf(block_sum(local, shared) / (float)hidden + eps);
    for (long long j = threadIdx.x; j < hidden; j += blockDim.x) {
        float s = ld(x[xo + j]) + ld(skip[so + j]) + (bias ? ld(bias[j]) : 0.f);
        st(y[xo + j], (s - mean) * inv * ld(gamma[j]) + (beta ? ld(beta[j]) : 0.f));
        if (sum_out) st(sum_out[xo + j], s);
    }
    if (threadIdx.x == 0) {
        if (mean_out) mean_out[r] = mean;
        if (inv_out) inv_out[r] = inv;
    }
}
"""


def skip_norm_source(ctype: str) -> str:
    """The CUDA source of the skip-norm kernel for one storage type (a test compiles it with nvcc)."""
    return f"#define T {ctype}\n" + _FLOAT_CONVERSIONS + _SKIP_NORM_SOURCE


@cache
def _skip_norm_kernel(dtype: str) -> Any:
    import cupy

    return cupy.RawKernel(skip_norm_source(_CTYPES[dtype]), "trtplug_skip_norm")


def skip_norm(xp: ModuleType, inputs: tuple[Any, ...], outputs: Any, epsilon: float, rms: bool) -> bool:
    """The skip-norm outputs [y, mean?, inv_std_var?, sum?] in one kernel; False when the dtype has
    no fast path (the caller computes with array operations)."""
    x, skip, gamma, beta, bias = inputs
    if str(x.dtype) not in ("float32", "float16") or x.size == 0:
        return False
    hidden = x.shape[-1]
    rows, skip_rows = x.size // hidden, skip.size // hidden
    dense = [xp.ascontiguousarray(a) if a is not None else None for a in (x, skip, gamma, beta, bias)]
    results = [o if o.flags.c_contiguous else xp.empty(o.shape, o.dtype) for o in outputs]
    slots = [*results, None, None, None][:4]
    pointers = [a if a is not None else 0 for a in (*dense, slots[0], slots[1], slots[2], slots[3])]
    scalars = (xp.int64(rows), xp.int64(hidden), xp.int64(skip_rows), xp.float32(epsilon), xp.int32(rms))
    _skip_norm_kernel(str(x.dtype))((rows,), (256,), (*pointers, *scalars))
    for out, result in zip(outputs, results, strict=True):
        if out is not result:
            out[...] = result
    return True
