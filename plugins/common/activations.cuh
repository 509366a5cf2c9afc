// Activation functors of the GELU family, in float32 (fp16 data is converted around them).
// Shared by the elementwise launchers and BiasSplitGelu, which apply them through activate<T>;
// sigmoidFor<T>, the gates' sigmoid (GatedRMSNorm, LinearAttentionGate).
// Included only from .cu files.
#pragma once

#include "common/gelu16.cuh"

#include <cuda_runtime.h>

#include <type_traits>

namespace trtplug
{

//! sigmoid(v) for an output of type T: fp16/bf16 (11 or 8 significant bits) take the hardware exp
//! and reciprocal (~2^-21 relative; the exact expf and divide made the 16-bit gates compute-bound
//! on the H200, 36-46% of copy); fp32 keeps them. exp overflow gives 1 / inf = 0.
template <typename T>
__device__ __forceinline__ float sigmoidFor(float v)
{
    if constexpr (std::is_same_v<T, float>)
    {
        return 1.F / (1.F + expf(-v));
    }
    else
    {
        return __fdividef(1.F, 1.F + __expf(-v)); // approximate reciprocal: 0 once exp overflows
    }
}

//! x, for BiasAdd (bias and skip only).
struct IdentityAct
{
    __device__ __forceinline__ float operator()(float v) const { return v; }
};

//! Exact GELU: 0.5 v (1 + erf(v / sqrt 2)). This erff form is the fp32 one (fp32 outputs need
//! erff's accuracy); activate<T> gives 16-bit outputs gelu16.
struct GeluErfAct
{
    __device__ __forceinline__ float operator()(float v) const
    {
        constexpr float kSqrtHalf = 0.70710678118654752f;
        return 0.5f * v * (1.f + erff(v * kSqrtHalf));
    }
};

//! Tanh GELU: 0.5 v (1 + tanh(u)) with u = sqrt(2/pi) (v + 0.044715 v^3). Evaluated as the
//! identical v * sigmoid(2u) = v / (1 + exp(-2u)): one fast exp and one fast divide instead of
//! tanhf, within ~1e-6 relative. exp overflowing to inf (v << 0) gives the right limit, -0.
struct GeluTanhAct
{
    __device__ __forceinline__ float operator()(float v) const
    {
        constexpr float kMinusTwoSqrt2OverPi = -1.5957691216057308f;
        constexpr float kBeta = 0.044715f;
        float const minus2u = kMinusTwoSqrt2OverPi * v * (1.f + kBeta * v * v);
        return __fdividef(v, 1.f + __expf(minus2u));
    }
};

//! QuickGelu: v * sigmoid(alpha v) = v / (1 + exp(-alpha v)), same fast path as above.
struct QuickGeluAct
{
    float alpha;
    __device__ __forceinline__ float operator()(float v) const { return __fdividef(v, 1.f + __expf(-alpha * v)); }
};

//! act(v) for an output of element type T: the one place where the output type picks the formula.
//! The exact GELU of an fp16 / bf16 output is gelu16 (branch-free, about half of erff's instructions,
//! within 1 ulp of the correctly rounded 16-bit GELU for every input: tests/gelu16_exhaustive.cu).
template <typename T, class Act>
__device__ __forceinline__ float activate(Act const& act, float v)
{
    if constexpr (std::is_same_v<Act, GeluErfAct> && sizeof(T) == 2)
    {
        return gelu16(v);
    }
    else
    {
        return act(v);
    }
}

} // namespace trtplug
