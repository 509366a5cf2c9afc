"""The prototypes' elementwise fast paths on the GPU: the same math as their NumPy expressions,
compiled by CuPy into one kernel per op form instead of one CuPy call per operator, so a prototype
moves each byte once (issue 19: prototypes worth deploying). Contiguous, 16-byte-aligned tensors
whose innermost extent is a whole number of vectors take a RawKernel moving 16-byte vectors (4
floats, 8 halves or bf16s per thread and step): CuPy's ElementwiseKernel moves one element per
thread and ran at ~200 G elements/s on the H200 whatever the dtype (41% of copy in fp32, 20% in
fp16), instruction-bound. Other layouts take the ElementwiseKernel (fp32/fp16) or, for bf16, decline
so the caller computes on float32 upcasts. TRTPLUG_PROTO_VECTOR=0 turns the vector kernels off (to
time the ElementwiseKernels). The NumPy expressions stay the CPU path; the parity suite checks both
against the independent reference. Kernels are built on first use and cached per form and dtype."""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from trtplug.protolib.gpu_source import (
    CTYPES,
    FLOAT_CONVERSIONS,
    VECTOR_HEAD,
    grid_blocks,
    has_bf16,
    is_cupy,
    per_vector,
    pointer_args,
    storage_dtype,
    vector_ready,
    vectors_enabled,
)

__all__ = ["bias_activation", "bias_split_gelu", "is_cupy", "vector_activation_source", "vector_split_gelu_source"]


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


# Y = act(X + bias) + skip; bias repeats along the last axis (width_vectors vectors long).
_VECTOR_ACTIVATION_SOURCE = r"""
extern "C" __global__ void trtplug_vector_bias_act(const Vec* __restrict__ x, const Vec* __restrict__ b,
    const Vec* __restrict__ s, Vec* __restrict__ y, long long vectors, long long width_vectors PARAMS)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < vectors;
         i += (long long)gridDim.x * blockDim.x) {
        const Vec xv = x[i];
        Vec bv, sv, yv;
        if (HAS_BIAS) bv = b[column(i, width_vectors)];
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
    return head + FLOAT_CONVERSIONS + VECTOR_HEAD + _VECTOR_ACTIVATION_SOURCE


@cache
def _vector_activation_kernel(expr: str, params: tuple[str, ...], dtype: str, has_bias: bool, has_skip: bool) -> Any:
    import cupy

    source = vector_activation_source(expr, params, CTYPES[dtype], has_bias, has_skip)
    return cupy.RawKernel(source, "trtplug_vector_bias_act")


def _activation_vector_ready(x: Any, bias: Any, skip: Any, out: Any) -> bool:
    """The vector kernel applies: one dtype, contiguous and aligned, bias [last axis], skip X's shape."""
    if not vectors_enabled() or out.shape != x.shape or (skip is not None and skip.shape != x.shape):
        return False
    return (bias is None or bias.shape == (x.shape[-1],)) and vector_ready([x, bias, skip, out], x.shape[-1])


def bias_activation(x: Any, bias: Any, skip: Any, out: Any, expr: str, params: dict[str, float]) -> bool:
    """out = expr(v = x + bias) + skip in one pass; bias/skip None when absent, broadcast as NumPy
    does. False (nothing written) for bf16 tensors the vector kernel cannot take."""
    import cupy

    if x.ndim and _activation_vector_ready(x, bias, skip, out):
        kernel = _vector_activation_kernel(expr, tuple(params), storage_dtype(x), bias is not None, skip is not None)
        per = per_vector(x)
        vectors = x.size // per
        scalars = [cupy.int64(vectors), cupy.int64(x.shape[-1] // per)] + [cupy.float32(v) for v in params.values()]
        kernel((grid_blocks(vectors),), (256,), (*pointer_args([x, bias, skip, out]), *scalars))
        return True
    if has_bf16([x, bias, skip, out]):
        return False
    kernel = _bias_activation_kernel(expr, tuple(params), bias is not None, skip is not None)
    args = [a for a in (x, bias, skip) if a is not None] + [float(v) for v in params.values()]
    kernel(*args, out)
    return True


@cache
def _split_gelu_kernel() -> Any:
    import cupy

    body = """
    ptrdiff_t row = i / half, col = i % half;
    const ptrdiff_t base = row * 2 * half;
    float a = (float)x[base + col] + (float)b[col];
    float g = (float)x[base + col + half] + (float)b[col + half];
    y = (Y)(a * (0.5f * g * (1.0f + erff(0.70710678118654752f * g))));
    """
    return cupy.ElementwiseKernel("raw X x, raw B b, int64 half", "Y y", body, "trtplug_bias_split_gelu")


# Y[r, j] = V[r, j] * gelu(V[r, j + D/2]), V = X + bias: each thread takes one vector of each half.
_VECTOR_SPLIT_GELU_SOURCE = r"""
extern "C" __global__ void trtplug_vector_split_gelu(const Vec* __restrict__ x, const Vec* __restrict__ b,
    Vec* __restrict__ y, long long vectors, long long half_vectors)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < vectors;
         i += (long long)gridDim.x * blockDim.x) {
        const long long col = column(i, half_vectors), row = (i - col) / half_vectors;
        const Vec av = x[row * 2 * half_vectors + col], gv = x[row * 2 * half_vectors + half_vectors + col];
        const Vec ab = b[col], gb = b[half_vectors + col];
        Vec yv;
#pragma unroll
        for (int k = 0; k < N; ++k) {
            const float g = ld(gv.v[k]) + ld(gb.v[k]);
            st(yv.v[k], (ld(av.v[k]) + ld(ab.v[k])) * (0.5f * g * (1.0f + erff(0.70710678118654752f * g))));
        }
        y[i] = yv;
    }
}
"""


def vector_split_gelu_source(ctype: str) -> str:
    return f"#define T {ctype}\n" + FLOAT_CONVERSIONS + VECTOR_HEAD + _VECTOR_SPLIT_GELU_SOURCE


@cache
def _vector_split_gelu_kernel(dtype: str) -> Any:
    import cupy

    return cupy.RawKernel(vector_split_gelu_source(CTYPES[dtype]), "trtplug_vector_split_gelu")


def bias_split_gelu(xp: ModuleType, x: Any, bias: Any, out: Any) -> bool:
    """out[..., j] = v[..., j] * gelu(v[..., j + D/2]), v = x + bias, over rows; False (nothing
    written) for bf16 tensors the vector kernel cannot take."""
    half = x.shape[-1] // 2
    if vectors_enabled() and x.size and vector_ready([x, bias, out], half):
        per = per_vector(x)
        vectors = out.size // per
        args = (*pointer_args([x, bias, out]), xp.int64(vectors), xp.int64(half // per))
        _vector_split_gelu_kernel(storage_dtype(x))((grid_blocks(vectors),), (256,), args)
        return True
    if has_bf16([x, bias, out]):
        return False
    _split_gelu_kernel()(xp.ascontiguousarray(x), xp.ascontiguousarray(bias), half, out)
    return True
