"""What the prototypes' GPU fast paths share (gpu_kernels.py: elementwise; gpu_rows.py: row norms):
float32 load/store helpers for each storage type, in CUDA C, and the host-side checks and
arguments of a 16-byte-vector launch. bf16 travels as a Bf16Device (uint16 bit patterns); the
kernels read and round it themselves, so a bf16 prototype moves 2 bytes an element instead of
an upcast copy in and a rounding pass out."""

from __future__ import annotations

import os
from functools import cache
from types import ModuleType
from typing import Any

from trtplug.protolib.dtypes import Bf16Device, storage

# float32 math on fp32/fp16/bf16 storage. bf16 rounds to nearest even with NaN kept quiet, as
# dtypes.float32_to_bf16_bits (the CPU path) and the CUDA plugins' __float2bfloat16 do.
FLOAT_CONVERSIONS = r"""
#include <cuda_fp16.h>
struct trtplug_bf16 { unsigned short bits; };
__device__ __forceinline__ float ld(float x) { return x; }
__device__ __forceinline__ float ld(__half x) { return __half2float(x); }
__device__ __forceinline__ float ld(trtplug_bf16 x) { return __uint_as_float((unsigned)x.bits << 16); }
__device__ __forceinline__ void st(float& d, float v) { d = v; }
__device__ __forceinline__ void st(__half& d, float v) { d = __float2half_rn(v); }
__device__ __forceinline__ void st(trtplug_bf16& d, float v) {
    const unsigned u = __float_as_uint(v);
    d.bits = (unsigned short)(v != v ? (u >> 16) | 0x40u : (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
"""
# A 16-byte vector of T, and the remainder the vector kernels index a repeating operand with.
VECTOR_HEAD = r"""
constexpr int N = 16 / sizeof(T);
struct alignas(16) Vec { T v[N]; };

// i % width: 32-bit while the index fits (a 64-bit remainder costs several times the instructions,
// and the 16-bit kernels are bound by instructions).
__device__ __forceinline__ long long column(long long i, long long width) {
    return i < 0x7fffffffLL ? (long long)((unsigned)i % (unsigned)width) : i % width;
}
"""
CTYPES = {"float32": "float", "float16": "__half", "bfloat16": "trtplug_bf16"}
VECTOR_BYTES = 16


def vectors_enabled() -> bool:
    """False under TRTPLUG_PROTO_VECTOR=0: every fast path declines (to time what it replaces)."""
    return os.environ.get("TRTPLUG_PROTO_VECTOR", "1") != "0"


def is_cupy(xp: ModuleType) -> bool:
    return getattr(xp, "__name__", "") == "cupy"


@cache
def multiprocessors(device: int) -> int:
    """SMs of `device`, asked once: Device().attributes queries every attribute, too slow per call."""
    import cupy

    return int(cupy.cuda.Device(device).attributes["MultiProcessorCount"])


def grid_blocks(vectors: int, threads: int = 256) -> int:
    """Blocks of a grid-stride launch: enough for every vector, at most 16 per SM."""
    import cupy

    return max(1, min(-(-vectors // threads), multiprocessors(cupy.cuda.runtime.getDevice()) * 16))


def storage_dtype(array: Any) -> str:
    """The spec dtype name of a device array ("bfloat16" for a Bf16Device)."""
    return "bfloat16" if isinstance(array, Bf16Device) else str(array.dtype)


def has_bf16(arrays: list[Any]) -> bool:
    return any(isinstance(a, Bf16Device) for a in arrays)


def vector_ready(tensors: list[Any], width: int) -> bool:
    """Every tensor (None: absent) holds one float storage type, C-contiguous and 16-byte aligned,
    and `width` (the innermost extent a vector may not cross) is a whole number of vectors."""
    present = [storage(t) for t in tensors if t is not None]
    dtype = storage_dtype(tensors[0])
    if dtype not in CTYPES or present[0].size == 0:
        return False
    same = all(storage_dtype(t) == dtype for t in tensors if t is not None)
    laid_out = all(a.flags.c_contiguous and a.data.ptr % VECTOR_BYTES == 0 for a in present)
    return same and laid_out and width % (VECTOR_BYTES // present[0].dtype.itemsize) == 0


def per_vector(array: Any) -> int:
    """Elements in one 16-byte vector of `array`'s storage."""
    return VECTOR_BYTES // storage(array).dtype.itemsize


def overlaps(a: Any, b: Any) -> bool:
    """Whether two device arrays share any byte of memory."""
    a_start, b_start = storage(a).data.ptr, storage(b).data.ptr
    return a_start < b_start + storage(b).nbytes and b_start < a_start + storage(a).nbytes


def pointer_args(arrays: list[Any]) -> list[Any]:
    """RawKernel arguments: each array's storage, 0 (a null pointer) for an absent one."""
    return [0 if a is None else storage(a) for a in arrays]


def dense(xp: ModuleType, array: Any) -> Any:
    """`array` C-contiguous (a copy only when it is not); a Bf16Device stays one."""
    if array is None:
        return None
    if isinstance(array, Bf16Device):
        return array if array.bits.flags.c_contiguous else Bf16Device(xp.ascontiguousarray(array.bits))
    return xp.ascontiguousarray(array)


def empty_like(xp: ModuleType, array: Any) -> Any:
    if isinstance(array, Bf16Device):
        return Bf16Device(xp.empty(array.shape, dtype=xp.uint16))
    return xp.empty(array.shape, array.dtype)


def assign(target: Any, source: Any) -> None:
    """target[...] = source for same-typed arrays (a Bf16Device's bits copied)."""
    storage(target)[...] = storage(source)
