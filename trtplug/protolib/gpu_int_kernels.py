"""The integer elementwise prototypes' fast paths on the GPU (pyplugins/bitwise.py, bit_shift.py):
one RawKernel per op form moving 16-byte vectors per thread, instead of CuPy's one element per
thread (bitwise: 14-61% of copy on the H200) or BitShift's chain of where/astype passes (2-11%).
They take same-shape, same-dtype, C-contiguous, 16-byte-aligned tensors; anything else (a
broadcast, a strided or offset view) declines, and the caller runs its xp expression, which stays
the CPU path. Kernels are built on first use and cached per form."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from trtplug.protolib.gpu_source import VECTOR_BYTES, grid_blocks, is_cupy, overlaps

__all__ = ["bit_shift", "bit_shift_source", "bitwise", "bitwise_source", "is_cupy"]

THREADS = 256

# Bitwise ops act on each byte alone, so every integer dtype is the same stream of 32-bit words.
_BITWISE_EXPRS = {"bitwise_and": "a & b", "bitwise_or": "a | b", "bitwise_xor": "a ^ b", "bitwise_not": "~a"}

_BITWISE_SOURCE = r"""
__device__ __forceinline__ unsigned int op(unsigned int a, unsigned int b) { return EXPR; }

// No __restrict__: an output may be its own input (in place), which is right elementwise.
extern "C" __global__ void trtplug_bitwise(const uint4* a, const uint4* b, uint4* c, long long vectors,
    long long tail_bytes)
{
    const long long first = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    for (long long i = first; i < vectors; i += (long long)gridDim.x * blockDim.x) {
        const uint4 av = a[i];
        const uint4 bv = UNARY ? av : b[i];  // b is null for NOT
        c[i] = make_uint4(op(av.x, bv.x), op(av.y, bv.y), op(av.z, bv.z), op(av.w, bv.w));
    }
    if (first < tail_bytes) {  // the last (< 16) bytes, one per thread
        const long long k = vectors * 16 + first;
        const unsigned char* ab = (const unsigned char*)a;
        const unsigned char* bb = (const unsigned char*)b;
        ((unsigned char*)c)[k] = (unsigned char)op(ab[k], UNARY ? 0u : bb[k]);
    }
}
"""

# dtype -> (CUDA element type, its unsigned twin): LEFT shifts the unsigned bits, so bits past
# the sign bit are discarded without signed overflow.
_INT_CTYPES = {
    "int8": ("signed char", "unsigned char"),
    "int16": ("short", "unsigned short"),
    "int32": ("int", "unsigned int"),
    "int64": ("long long", "unsigned long long"),
    "uint8": ("unsigned char", "unsigned char"),
    "uint16": ("unsigned short", "unsigned short"),
    "uint32": ("unsigned int", "unsigned int"),
    "uint64": ("unsigned long long", "unsigned long long"),
}

# Opset-28 BitShift: an amount < 0 or >= BITS gives 0, or -1 for a RIGHT shift of a negative
# value. A negative signed amount converts to a huge unsigned one, so one compare finds both.
# An arithmetic shift by BITS-1 is the sign fill itself (-1 or 0).
_BIT_SHIFT_SOURCE = r"""
__device__ __forceinline__ T shift(T x, T y) {
    const bool valid = (unsigned long long)y < (unsigned long long)BITS;
    if (LEFT) return valid ? (T)(U)((U)x << (int)y) : (T)0;
    if (SIGNED) return (T)(x >> (valid ? (int)y : BITS - 1));
    return valid ? (T)(x >> (int)y) : (T)0;
}

constexpr int N = 16 / sizeof(T);
struct alignas(16) Vec { T v[N]; };

extern "C" __global__ void trtplug_bit_shift(const Vec* x, const Vec* y, Vec* z, long long vectors,
    long long tail)
{
    const long long first = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    for (long long i = first; i < vectors; i += (long long)gridDim.x * blockDim.x) {
        const Vec xv = x[i], yv = y[i];
        Vec zv;
#pragma unroll
        for (int k = 0; k < N; ++k) zv.v[k] = shift(xv.v[k], yv.v[k]);
        z[i] = zv;
    }
    if (first < tail) {  // the last (< N) elements, one per thread
        const long long k = vectors * N + first;
        ((T*)z)[k] = shift(((const T*)x)[k], ((const T*)y)[k]);
    }
}
"""


def bitwise_source(op: str) -> str:
    """The CUDA source of one bitwise form (a function so a test can compile it with nvcc)."""
    unary = int(op == "bitwise_not")
    return f"#define EXPR ({_BITWISE_EXPRS[op]})\n#define UNARY {unary}\n" + _BITWISE_SOURCE


def bit_shift_source(dtype: str, direction: str) -> str:
    """The CUDA source of BitShift for one integer dtype and direction ("LEFT" or "RIGHT")."""
    ctype, utype = _INT_CTYPES[dtype]
    defines = {
        "T": ctype,
        "U": utype,
        "BITS": int(dtype.removeprefix("u").removeprefix("int")),
        "SIGNED": int(dtype.startswith("int")),
        "LEFT": int(direction == "LEFT"),
    }
    return "".join(f"#define {k} {v}\n" for k, v in defines.items()) + _BIT_SHIFT_SOURCE


@cache
def _bitwise_kernel(op: str) -> Any:
    import cupy

    return cupy.RawKernel(bitwise_source(op), "trtplug_bitwise")


@cache
def _bit_shift_kernel(dtype: str, direction: str) -> Any:
    import cupy

    return cupy.RawKernel(bit_shift_source(dtype, direction), "trtplug_bit_shift")


def _partly_overlapping(out: Any, inputs: Sequence[Any]) -> bool:
    """out shares memory with an input without being it: threads would read what others wrote."""
    return any(overlaps(out, a) and a.data.ptr != out.data.ptr for a in inputs)


def _vector_ready(inputs: Sequence[Any], out: Any) -> bool:
    """CuPy arrays of one integer dtype and one shape, C-contiguous, 16-byte aligned."""
    tensors = [*inputs, out]
    if not all(hasattr(getattr(t, "data", None), "ptr") for t in tensors):
        return False  # not a device array (a host array, a Bf16Device)
    if str(out.dtype) not in _INT_CTYPES or out.size == 0:
        return False
    alike = all(t.dtype == out.dtype and t.shape == out.shape for t in tensors)
    laid_out = all(t.flags.c_contiguous and t.data.ptr % VECTOR_BYTES == 0 for t in tensors)
    return alike and laid_out and not _partly_overlapping(out, inputs)


def _launch(kernel: Any, arrays: Sequence[Any], vectors: int, tail: int) -> None:
    """A grid-stride launch over `vectors`, with at least one block for the tail alone."""
    import cupy

    kernel((grid_blocks(vectors, THREADS),), (THREADS,), (*arrays, cupy.int64(vectors), cupy.int64(tail)))


def bitwise(op: str, inputs: Sequence[Any], out: Any) -> bool:
    """out = op(*inputs) on CuPy arrays over raw 16-byte words; False (nothing written) when the
    tensors do not qualify and the caller must compute it itself."""
    if op not in _BITWISE_EXPRS or len(inputs) != (1 if op == "bitwise_not" else 2):
        return False
    if not _vector_ready(inputs, out):
        return False
    pointers = [inputs[0], inputs[1] if len(inputs) == 2 else 0, out]
    _launch(_bitwise_kernel(op), pointers, out.nbytes // VECTOR_BYTES, out.nbytes % VECTOR_BYTES)
    return True


def bit_shift(x: Any, y: Any, out: Any, direction: str) -> bool:
    """out = x << y or x >> y (opset-28 out-of-range amounts) on CuPy arrays, 16-byte vectors of
    elements; False (nothing written) when the tensors do not qualify."""
    if direction not in ("LEFT", "RIGHT") or not _vector_ready([x, y], out):
        return False
    per = VECTOR_BYTES // out.dtype.itemsize
    _launch(_bit_shift_kernel(str(out.dtype), direction), [x, y, out], out.size // per, out.size % per)
    return True
