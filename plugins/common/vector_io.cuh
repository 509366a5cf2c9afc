// Device-only vector helpers of the elementwise kernels (launch.cuh stays host-compilable: the
// host emulations in tests/ include it with a C++ compiler).
#pragma once

#include "common/launch.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

namespace trtplug
{

//! N floats as a Vec of T, 16-bit types two at a time (one conversion instruction a pair).
template <typename T, int N>
__device__ __forceinline__ Vec<T, N> fromFloats(float const (&x)[N])
{
    Vec<T, N> out;
    if constexpr (N % 2 == 0 && (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>))
    {
        using Pair = std::conditional_t<std::is_same_v<T, __half>, __half2, __nv_bfloat162>;
        auto* pairs = reinterpret_cast<Pair*>(out.v);
#pragma unroll
        for (int i = 0; i < N / 2; ++i)
        {
            if constexpr (std::is_same_v<T, __half>)
            {
                pairs[i] = __floats2half2_rn(x[2 * i], x[2 * i + 1]);
            }
            else
            {
                pairs[i] = __floats2bfloat162_rn(x[2 * i], x[2 * i + 1]);
            }
        }
    }
    else
    {
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            out.v[i] = fromFloat<T>(x[i]);
        }
    }
    return out;
}

//! N floats from `p` through the read-only cache, as 16-byte loads when N is a multiple of 4
//! (p then 16-byte aligned).
template <int N>
__device__ __forceinline__ void loadFloats(float const* p, float (&x)[N])
{
    if constexpr (N % 4 == 0)
    {
#pragma unroll
        for (int i = 0; i < N; i += 4)
        {
            float4 const q = __ldg(reinterpret_cast<float4 const*>(p + i));
            x[i] = q.x;
            x[i + 1] = q.y;
            x[i + 2] = q.z;
            x[i + 3] = q.w;
        }
    }
    else
    {
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            x[i] = __ldg(p + i);
        }
    }
}

} // namespace trtplug
