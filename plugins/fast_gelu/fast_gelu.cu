#include "common/launch.cuh"
#include "fast_gelu/fast_gelu.h"

namespace trtplug
{
namespace
{

__device__ __forceinline__ float fastGelu(float v)
{
    constexpr float kAlpha = 0.7978845608028654f; // sqrt(2 / pi)
    constexpr float kBeta = 0.044715f;
    return 0.5f * v * (1.f + tanhf(kAlpha * v * (1.f + kBeta * v * v)));
}

// Each thread handles N consecutive elements per step: one 16-byte access when the buffers
// are aligned and rows are multiples of N, else N = 1. Bias is reused from L1/L2.
template <typename T, int N, bool kBias>
__global__ void fastGeluKernel(T const* __restrict__ x, T const* __restrict__ bias, T* __restrict__ y, int64_t groups,
    int64_t biasLen)
{
    using V = Vec<T, N>;
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t g = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; g < groups; g += stride)
    {
        V in = reinterpret_cast<V const*>(x)[g];
        V b;
        if constexpr (kBias)
        {
            b = reinterpret_cast<V const*>(bias)[(g * N % biasLen) / N];
        }
        V out;
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            float v = toFloat(in.v[i]);
            if constexpr (kBias)
            {
                v += toFloat(b.v[i]);
            }
            out.v[i] = fromFloat<T>(fastGelu(v));
        }
        reinterpret_cast<V*>(y)[g] = out;
    }
}

template <typename T, int N>
void launchWidth(T const* x, T const* bias, T* y, int64_t n, int64_t biasLen, cudaStream_t stream)
{
    int64_t const groups = n / N;
    int const blocks = gridFor(groups);
    if (bias != nullptr)
    {
        fastGeluKernel<T, N, true><<<blocks, kBlockThreads, 0, stream>>>(x, bias, y, groups, biasLen);
    }
    else
    {
        fastGeluKernel<T, N, false><<<blocks, kBlockThreads, 0, stream>>>(x, bias, y, groups, biasLen);
    }
}

template <typename T>
cudaError_t launchTyped(void const* x, void const* bias, void* y, int64_t n, int64_t biasLen, cudaStream_t stream)
{
    constexpr int kVec = 16 / sizeof(T);
    auto const* xt = static_cast<T const*>(x);
    auto const* bt = static_cast<T const*>(bias);
    auto* yt = static_cast<T*>(y);
    bool const vectorizable = n % kVec == 0 && isAligned(x, 16) && isAligned(y, 16)
        && (bias == nullptr || (biasLen % kVec == 0 && isAligned(bias, 16)));
    if (vectorizable)
    {
        launchWidth<T, kVec>(xt, bt, yt, n, biasLen, stream);
    }
    else
    {
        launchWidth<T, 1>(xt, bt, yt, n, biasLen, stream);
    }
    return cudaGetLastError();
}

} // namespace

cudaError_t launchFastGelu(DType dtype, void const* x, void const* bias, void* y, int64_t n, int64_t biasLen,
    cudaStream_t stream) noexcept
{
    if (n == 0)
    {
        return cudaSuccess;
    }
    if (n < 0 || (bias != nullptr && (biasLen <= 0 || n % biasLen != 0)))
    {
        return cudaErrorInvalidValue;
    }
    switch (dtype)
    {
    case DType::kFLOAT32: return launchTyped<float>(x, bias, y, n, biasLen, stream);
    case DType::kFLOAT16: return launchTyped<__half>(x, bias, y, n, biasLen, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug
