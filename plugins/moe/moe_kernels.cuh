// MoE's routing and elementwise kernels (the GEMMs are in moe_gemm.cuh). Included only from the pipeline (moe_pipeline.cuh).
#pragma once

#include "common/activations.cuh"
#include "common/launch.cuh"
#include "moe/moe.h"

#include <cfloat>
#include <cstdint>

namespace trtplug
{
namespace moe_detail
{

constexpr unsigned kFullMask = 0xffffffffu;

//! (value, expert) a beats (value, expert) b: the larger logit, the higher expert among equal ones
//! (ONNX Runtime's CPU kernel sorts (probability, index) pairs descending). Expert -1 is "none".
__device__ __forceinline__ bool beats(float av, int32_t ae, float bv, int32_t be)
{
    return ae >= 0 && (be < 0 || av > bv || (av == bv && ae > be));
}

__device__ __forceinline__ float warpMax(float v)
{
    for (int off = 16; off > 0; off >>= 1)
        v = fmaxf(v, __shfl_xor_sync(kFullMask, v, off));
    return v;
}

__device__ __forceinline__ float warpSum(float v)
{
    for (int off = 16; off > 0; off >>= 1)
        v += __shfl_xor_sync(kFullMask, v, off);
    return v;
}

//! A warp per token: softmax statistics over its logits, then k rounds of a warp argmax over the
//! experts not yet taken (each lane marks its taken experts in a 64-bit mask: expert = lane + 32 s).
//! Lane 0 writes the route's expert and weight (the softmax probability, or QMoE's router_weights
//! at the expert when given) and counts the route on its expert.
template <typename T>
__global__ void routeKernel(T const* logits, T const* mixWeights, int64_t tokens, int32_t experts, int32_t k,
    bool normalize, int32_t* routeExpert, float* routeWeight, int32_t* counts)
{
    int64_t const token = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32;
    int32_t const lane = static_cast<int32_t>(threadIdx.x % 32);
    if (token >= tokens)
    {
        return; // whole warps leave together: blockDim is a multiple of 32
    }
    T const* row = logits + token * experts;
    float maxLogit = -INFINITY;
    for (int32_t e = lane; e < experts; e += 32)
        maxLogit = fmaxf(maxLogit, toFloat(row[e]));
    maxLogit = warpMax(maxLogit);
    float sum = 0.f;
    for (int32_t e = lane; e < experts; e += 32)
        sum += expf(toFloat(row[e]) - maxLogit);
    sum = warpSum(sum);
    uint64_t taken = 0;
    float chosen = 0.f;
    for (int32_t j = 0; j < k; ++j)
    {
        float best = -INFINITY;
        int32_t bestExpert = -1;
        for (int32_t e = lane, s = 0; e < experts; e += 32, ++s)
        {
            float const v = toFloat(row[e]);
            if (!((taken >> s) & 1u) && beats(v, e, best, bestExpert))
            {
                best = v;
                bestExpert = e;
            }
        }
        for (int off = 16; off > 0; off >>= 1)
        {
            float const v = __shfl_xor_sync(kFullMask, best, off);
            int32_t const e = __shfl_xor_sync(kFullMask, bestExpert, off);
            if (beats(v, e, best, bestExpert))
            {
                best = v;
                bestExpert = e;
            }
        }
        if (bestExpert % 32 == lane)
            taken |= uint64_t{1} << (bestExpert / 32);
        if (lane == 0)
        {
            float const prob = mixWeights != nullptr ? toFloat(mixWeights[token * experts + bestExpert])
                                                     : expf(best - maxLogit) / sum;
            routeExpert[token * k + j] = bestExpert;
            routeWeight[token * k + j] = prob;
            chosen += prob;
            atomicAdd(&counts[bestExpert], 1);
        }
    }
    if (normalize && lane == 0)
    {
        for (int32_t j = 0; j < k; ++j)
            routeWeight[token * k + j] /= chosen;
    }
}

// The non-template kernels get internal linkage: moe.cu and qmoe.cu both include the pipeline.
namespace
{

//! One thread: each expert's first grouped row and first GEMM tile (exclusive scans of the
//! counts), and the fill cursors zeroed. Serial: at most kMoeMaxExperts steps, once per call.
__global__ void offsetsKernel(int32_t* counts, int32_t experts, int32_t tileRows, int32_t* rowStart, int32_t* tileStart)
{
    int32_t rows = 0;
    int32_t tiles = 0;
    for (int32_t e = 0; e < experts; ++e)
    {
        rowStart[e] = rows;
        tileStart[e] = tiles;
        rows += counts[e];
        tiles += (counts[e] + tileRows - 1) / tileRows;
        counts[experts + e] = 0;
    }
    rowStart[experts] = rows;
    tileStart[experts] = tiles;
}

//! Each route gets a row in its expert's group. The order inside a group is the atomics' (not
//! fixed), but every row is computed on its own, so the results do not depend on it.
__global__ void placeKernel(int32_t const* routeExpert, int64_t routes, int32_t experts, int32_t const* rowStart,
    int32_t* cursors, int32_t* routeRow, int32_t* rowRoute)
{
    for (int64_t r = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; r < routes; r += int64_t{gridDim.x} * blockDim.x)
    {
        int32_t const e = routeExpert[r];
        int32_t const row = rowStart[e] + atomicAdd(&cursors[e], 1);
        routeRow[r] = row;
        rowRoute[row] = static_cast<int32_t>(r);
    }
}

} // namespace

//! The activation's inputs and output (in the run's dtype T: fc2's A operand).
template <typename T>
struct ActivationArgs
{
    float const* fc1Out; //!< [rows, fc1Cols], bias added
    float const* fc3Out; //!< [rows, inter] or null
    T* act;              //!< [rows, inter]
    int64_t rows, inter, fc1Cols;
    MoeActivation kind;
    int32_t fusion;
    float alpha, beta, limit;
};

template <typename T>
__device__ __forceinline__ float swiglu(float g, float l, ActivationArgs<T> const& a)
{
    if (a.limit < FLT_MAX)
    {
        g = fminf(g, a.limit);
        l = fminf(fmaxf(l, -a.limit), a.limit);
    }
    return g / (1.f + expf(-a.alpha * g)) * (l + a.beta);
}

template <typename T>
__global__ void activationKernel(ActivationArgs<T> a)
{
    int64_t const n = a.rows * a.inter;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const row = i / a.inter;
        int64_t const c = i - row * a.inter;
        float const* h = a.fc1Out + row * a.fc1Cols;
        float const gate3 = a.fc3Out != nullptr ? a.fc3Out[i] : 1.f;
        float v;
        switch (a.kind)
        {
        case MoeActivation::kSwiglu:
            v = a.fusion == 1 ? swiglu(h[2 * c], h[2 * c + 1], a)
                : a.fusion == 2 ? swiglu(h[c], h[a.inter + c], a)
                                : swiglu(h[c], gate3, a);
            a.act[i] = fromFloat<T>(v);
            continue;
        case MoeActivation::kGeglu:
            v = a.fusion == 1 ? GeluTanhAct{}(h[2 * c]) * h[2 * c + 1] : GeluTanhAct{}(h[c]) * h[a.inter + c];
            a.act[i] = fromFloat<T>(v);
            continue;
        case MoeActivation::kRelu: v = fmaxf(h[c], 0.f); break;
        case MoeActivation::kGelu: v = GeluTanhAct{}(h[c]); break;
        case MoeActivation::kSilu: v = h[c] / (1.f + expf(-h[c])); break;
        default: v = h[c]; break;
        }
        a.act[i] = fromFloat<T>(v * gate3);
    }
}

//! Per token and column: the k expert rows weighted, summed in route order. A route of weight <= 0
//! adds nothing, as in ONNX Runtime's CPU kernels (softmax weights are never negative; QMoE's
//! router_weights can be).
template <typename T>
__global__ void combineKernel(float const* expertOut, int32_t const* routeRow, float const* routeWeight,
    int64_t tokens, int64_t hidden, int32_t k, T* output)
{
    int64_t const n = tokens * hidden;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const token = i / hidden;
        int64_t const c = i - token * hidden;
        float acc = 0.f;
        for (int32_t j = 0; j < k; ++j)
        {
            float const w = routeWeight[token * k + j];
            if (w > 0.f)
                acc += w * expertOut[int64_t{routeRow[token * k + j]} * hidden + c];
        }
        output[i] = fromFloat<T>(acc);
    }
}

} // namespace moe_detail
} // namespace trtplug
