// Device side of the scatter reductions: one update applied atomically to one element. "none"
// is a plain store (duplicate indices: one update wins, unspecified which); max and min are
// order-independent, hence deterministic; add and mul are atomic but their float rounding
// depends on the order of duplicates (integers are exact).
#pragma once

#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "common/dtype.h"
#include "common/scatter_reduce.h"

#include <cstdint>
#include <type_traits>

namespace trtplug
{
namespace scatter
{

template <class T>
struct Bits; // an unsigned integer of T's size, for compare-and-swap
template <>
struct Bits<float>
{
    using type = unsigned int;
};
template <>
struct Bits<int32_t>
{
    using type = unsigned int;
};
template <>
struct Bits<int64_t>
{
    using type = unsigned long long;
};
template <>
struct Bits<__half>
{
    using type = unsigned short;
};
template <>
struct Bits<__nv_bfloat16>
{
    using type = unsigned short;
};

template <class T>
__device__ __forceinline__ T combine(ScatterReduction r, T a, T b)
{
    if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>)
    {
        return fromFloat<T>(combine<float>(r, toFloat(a), toFloat(b)));
    }
    else
    {
        switch (r)
        {
        case ScatterReduction::kADD: return a + b;
        case ScatterReduction::kMUL: return a * b;
        case ScatterReduction::kMAX: return a > b ? a : b;
        case ScatterReduction::kMIN: return a < b ? a : b;
        default: return b;
        }
    }
}

//! *dst = combine(*dst, v) as one atomic read-modify-write (a compare-and-swap loop).
template <class T>
__device__ __forceinline__ void atomicCombine(ScatterReduction r, T* dst, T v)
{
    using B = typename Bits<T>::type;
    B* word = reinterpret_cast<B*>(dst);
    B old = *word;
    B assumed;
    do
    {
        assumed = old;
        T current;
        memcpy(&current, &assumed, sizeof(T));
        T const next = combine(r, current, v);
        B nextBits;
        memcpy(&nextBits, &next, sizeof(T));
        if (nextBits == assumed)
        {
            return; // max/min that keep the current value: no write needed
        }
        old = atomicCAS(word, assumed, nextBits);
    } while (old != assumed);
}

template <class T>
__device__ __forceinline__ void apply(ScatterReduction r, T* dst, T v)
{
    if (r == ScatterReduction::kNONE)
    {
        *dst = v;
    }
    else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, int32_t>)
    {
        if (r == ScatterReduction::kADD)
        {
            atomicAdd(dst, v);
            return;
        }
        atomicCombine(r, dst, v);
    }
    else
    {
        atomicCombine(r, dst, v);
    }
}

} // namespace scatter
} // namespace trtplug

namespace trtplug
{
namespace scatter
{

//! f(T{}) for the element types the scatter ops take; cudaErrorInvalidValue for others.
template <class F>
cudaError_t dispatchType(DType dtype, F&& f)
{
    return forElementOrBf16Type(dtype, [&](auto zero) {
        f(zero);
        return cudaGetLastError();
    });
}

//! out = data (skipped when they alias, as TensorRT may run the op in place).
inline cudaError_t copyData(void const* data, void* out, int64_t count, DType dtype, cudaStream_t stream)
{
    if (data == out || count == 0)
    {
        return cudaSuccess;
    }
    return cudaMemcpyAsync(out, data, static_cast<size_t>(count) * dtypeSize(dtype), cudaMemcpyDeviceToDevice, stream);
}

//! An index in [-dim, dim) made non-negative; -1 when out of range (the update is skipped).
__device__ __forceinline__ int64_t wrapIndex(int64_t index, int64_t dim)
{
    index = index < 0 ? index + dim : index;
    return index >= 0 && index < dim ? index : -1;
}

} // namespace scatter
} // namespace trtplug
