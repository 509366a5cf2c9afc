// Vectorised elementwise machinery for memory-bound kernels. Included only from .cu files.
//
// An "Op" describes one group of N consecutive elements (one 16-byte access when possible):
//     struct Op { struct Frag {...}; void load(uint32_t g, Frag&) const; void store(uint32_t g, Frag const&) const;
//                 Op offset(int64_t groups) const; };
// runUnrolled() launches a grid that covers the tensor once (no cap: every SM gets many
// blocks) and each thread issues the loads of kUnroll groups before the first use, so several
// 16-byte loads per thread are in flight. Indices are 32-bit inside a launch; tensors beyond
// 2^31 groups run as several launches over chunks (a multiple of the op's period, e.g. the bias
// length, so each chunk starts at phase 0).
#pragma once

#include "common/activations.cuh"
#include "common/dtype_dispatch.cuh"
#include "common/elementwise.h"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"

#include <climits>

namespace trtplug
{

constexpr int kUnroll = 4;

template <class Op, int kThreads, int kDepth>
__global__ void __launch_bounds__(kThreads) unrolledKernel(Op op, uint32_t groups)
{
    typename Op::Frag frag[kDepth];
    uint32_t const tile = blockDim.x * kDepth;
    // start < groups <= INT32_MAX and stride < groups + tile: no uint32 overflow.
    for (uint32_t start = blockIdx.x * tile + threadIdx.x; start < groups; start += gridDim.x * tile)
    {
#pragma unroll
        for (int k = 0; k < kDepth; ++k)
        {
            uint32_t const g = start + k * blockDim.x;
            if (g < groups)
            {
                op.load(g, frag[k]);
            }
        }
#pragma unroll
        for (int k = 0; k < kDepth; ++k)
        {
            uint32_t const g = start + k * blockDim.x;
            if (g < groups)
            {
                op.store(g, frag[k]);
            }
        }
    }
}

//! Runs `op` over `groups` groups; `period` (>= 1) divides every chunk boundary. kThreads and
//! kDepth (groups loaded per thread before the first store) are the launch shape.
template <class Op, int kThreads = kBlockThreads, int kDepth = kUnroll>
cudaError_t runUnrolled(Op const& op, int64_t groups, int64_t period, cudaStream_t stream)
{
    int64_t const chunk = period <= INT32_MAX ? INT32_MAX / period * period : 0;
    if (chunk == 0)
    {
        return cudaErrorInvalidValue;
    }
    int64_t const tile = int64_t{kThreads} * kDepth;
    for (int64_t start = 0; start < groups; start += chunk)
    {
        int64_t const count = std::min(chunk, groups - start);
        auto const blocks = static_cast<unsigned>((count + tile - 1) / tile);
        unrolledKernel<Op, kThreads, kDepth>
            <<<blocks, kThreads, 0, stream>>>(op.offset(start), static_cast<uint32_t>(count));
        cudaError_t const err = cudaGetLastError();
        if (err != cudaSuccess)
        {
            return err;
        }
    }
    return cudaSuccess;
}

//! Which bias input an elementwise op has.
enum class BiasInput
{
    kNone,
    kOptional,
    kRequired
};

//! Y = act(X + bias) + skip over groups of N elements; bias and skip by template flag.
template <typename T, int N, bool kBias, bool kSkip, class Act>
struct BiasActivationOp
{
    using V = Vec<T, N>;
    struct Frag
    {
        V x;
        V b;
        V s;
    };

    V const* x;
    V const* bias;
    V const* skip;
    V* y;
    FastDivmod biasGroups;
    Act act;

    __device__ __forceinline__ void load(uint32_t g, Frag& f) const
    {
        f.x = x[g];
        if constexpr (kBias)
        {
            f.b = bias[biasGroups.mod(g)];
        }
        if constexpr (kSkip)
        {
            f.s = skip[g];
        }
    }

    __device__ __forceinline__ void store(uint32_t g, Frag const& f) const
    {
        V out;
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            float v = toFloat(f.x.v[i]);
            if constexpr (kBias)
            {
                v += toFloat(f.b.v[i]);
            }
            v = activate<T>(act, v);
            if constexpr (kSkip)
            {
                v += toFloat(f.s.v[i]);
            }
            out.v[i] = fromFloat<T>(v);
        }
        y[g] = out;
    }

    BiasActivationOp offset(int64_t groups) const
    {
        BiasActivationOp o = *this;
        o.x += groups;
        o.y += groups;
        o.skip = kSkip ? skip + groups : skip;
        return o;
    }
};

namespace detail
{

template <typename T, int N, bool kBias, bool kSkip, class Act>
cudaError_t launchBiasActivationOp(ElementwiseArgs const& a, Act act, cudaStream_t stream)
{
    using Op = BiasActivationOp<T, N, kBias, kSkip, Act>;
    using V = typename Op::V;
    int64_t const biasGroups = kBias ? a.biasLen / N : 1;
    if (biasGroups > INT32_MAX)
    {
        return cudaErrorInvalidValue;
    }
    Op const op{static_cast<V const*>(a.x), static_cast<V const*>(a.bias), static_cast<V const*>(a.skip),
        static_cast<V*>(a.y), FastDivmod(static_cast<uint32_t>(biasGroups)), act};
    return runUnrolled(op, a.n / N, biasGroups, stream);
}

template <typename T, int N, BiasInput kBias, bool kSkip, class Act>
cudaError_t launchBiasActivationWidth(ElementwiseArgs const& a, Act act, cudaStream_t stream)
{
    if constexpr (kBias == BiasInput::kNone)
    {
        return launchBiasActivationOp<T, N, false, kSkip>(a, act, stream);
    }
    else if constexpr (kBias == BiasInput::kRequired)
    {
        return launchBiasActivationOp<T, N, true, kSkip>(a, act, stream);
    }
    else
    {
        return a.bias != nullptr ? launchBiasActivationOp<T, N, true, kSkip>(a, act, stream)
                                 : launchBiasActivationOp<T, N, false, kSkip>(a, act, stream);
    }
}

template <typename T, BiasInput kBias, bool kSkip, class Act>
cudaError_t launchBiasActivationTyped(ElementwiseArgs const& a, Act act, cudaStream_t stream)
{
    constexpr int kVec = 16 / sizeof(T);
    bool const vectorizable = a.n % kVec == 0 && isAligned(a.x, 16) && isAligned(a.y, 16)
        && (a.skip == nullptr || isAligned(a.skip, 16))
        && (a.bias == nullptr || (a.biasLen % kVec == 0 && isAligned(a.bias, 16)));
    return vectorizable ? launchBiasActivationWidth<T, kVec, kBias, kSkip>(a, act, stream)
                        : launchBiasActivationWidth<T, 1, kBias, kSkip>(a, act, stream);
}

} // namespace detail

//! Y = act(X [+ bias]) [+ skip] in float32, float16 or bfloat16 (math in float32). Returns
//! cudaErrorInvalidValue for inconsistent arguments (a required input missing, an input the op
//! does not take, a bias whose length does not divide n, an unsupported dtype); n == 0
//! launches nothing.
template <BiasInput kBias, bool kSkip, class Act>
cudaError_t launchBiasActivation(DType dtype, ElementwiseArgs const& a, Act act, cudaStream_t stream) noexcept
{
    if (a.n <= 0)
    {
        // Empty tensors may come with null pointers (and a zero-length bias): nothing to check.
        return a.n == 0 ? cudaSuccess : cudaErrorInvalidValue;
    }
    bool const hasBias = a.bias != nullptr;
    bool const biasOk = kBias == BiasInput::kNone ? !hasBias
        : hasBias ? a.biasLen > 0 && a.n % a.biasLen == 0
                  : kBias == BiasInput::kOptional;
    if (!biasOk || (a.skip != nullptr) != kSkip || a.x == nullptr || a.y == nullptr)
    {
        return cudaErrorInvalidValue;
    }
    return forFloatOrBf16Type(dtype,
        [&](auto zero) { return detail::launchBiasActivationTyped<decltype(zero), kBias, kSkip>(a, act, stream); });
}

} // namespace trtplug
