// The integer elementwise kernel shared by the bitwise and shift ops. An op's .cu defines a
// functor `struct Op { template <class T> __device__ T operator()(T a, T b) const; }` and
// instantiates launchIntElementwise<Op> (unary ops ignore b). Same-shape inputs take a flat
// path with 16-byte vector access; broadcast inputs index through the merged axes.
#pragma once

#include "common/int_elementwise.h"
#include "common/launch.cuh"

namespace trtplug
{
namespace int_elementwise
{

template <class Op, class T, int N, bool kUnary>
__global__ void flatKernel(T const* __restrict__ a, T const* __restrict__ b, T* __restrict__ y, int64_t groups)
{
    using V = Vec<T, N>;
    Op const op{};
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t g = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; g < groups; g += stride)
    {
        V const va = reinterpret_cast<V const*>(a)[g];
        V vb = va;
        if constexpr (!kUnary)
        {
            vb = reinterpret_cast<V const*>(b)[g];
        }
        V out;
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            out.v[i] = op(va.v[i], vb.v[i]);
        }
        reinterpret_cast<V*>(y)[g] = out;
    }
}

template <class Op, class T>
__global__ void broadcastKernel(T const* __restrict__ a, T const* __restrict__ b, T* __restrict__ y, Broadcast shape)
{
    Op const op{};
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < shape.volume; i += stride)
    {
        int64_t rest = i;
        int64_t ia = 0;
        int64_t ib = 0;
        for (int32_t d = shape.rank - 1; d >= 0; --d)
        {
            int64_t const coord = rest % shape.dims[d];
            rest /= shape.dims[d];
            ia += coord * shape.strideA[d];
            ib += coord * shape.strideB[d];
        }
        y[i] = op(a[ia], b[ib]);
    }
}

template <class Op, class T, bool kUnary>
cudaError_t launchTyped(void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream)
{
    auto const* at = static_cast<T const*>(a);
    auto const* bt = static_cast<T const*>(b);
    auto* yt = static_cast<T*>(y);
    if (kUnary || shape.flat)
    {
        constexpr int kVec = 16 / sizeof(T);
        bool const vectorizable = shape.volume % kVec == 0 && isAligned(a, 16) && isAligned(y, 16)
            && (kUnary || isAligned(b, 16));
        if (vectorizable)
        {
            int64_t const groups = shape.volume / kVec;
            flatKernel<Op, T, kVec, kUnary><<<gridFor(groups), kBlockThreads, 0, stream>>>(at, bt, yt, groups);
        }
        else
        {
            flatKernel<Op, T, 1, kUnary><<<gridFor(shape.volume), kBlockThreads, 0, stream>>>(at, bt, yt, shape.volume);
        }
    }
    else
    {
        broadcastKernel<Op, T><<<gridFor(shape.volume), kBlockThreads, 0, stream>>>(at, bt, yt, shape);
    }
    return cudaGetLastError();
}

} // namespace int_elementwise

//! y = Op(a, b) over `shape`; `kUnary` ops take no b. Returns cudaErrorInvalidValue for other dtypes.
template <class Op, bool kUnary = false>
cudaError_t launchIntElementwise(
    DType dtype, void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept
{
    if (shape.volume == 0)
    {
        return cudaSuccess;
    }
    if (shape.volume < 0 || (!kUnary && b == nullptr))
    {
        return cudaErrorInvalidValue;
    }
    using namespace int_elementwise;
    switch (dtype)
    {
    case DType::kINT32: return launchTyped<Op, int32_t, kUnary>(a, b, y, shape, stream);
    case DType::kINT64: return launchTyped<Op, int64_t, kUnary>(a, b, y, shape, stream);
    case DType::kUINT8: return launchTyped<Op, uint8_t, kUnary>(a, b, y, shape, stream);
    case DType::kINT8: return launchTyped<Op, int8_t, kUnary>(a, b, y, shape, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug
