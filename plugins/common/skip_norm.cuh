// The one kernel template behind SkipLayerNormalization (kRms = false) and
// SkipSimplifiedLayerNormalization (kRms = true): a loader adding input, skip and bias into
// the row cache of rowNormKernel (plugins/common/row_norm.cuh). Each op's .cu instantiates
// its flag. Included only from .cu files.
#pragma once

#include "common/dtype_dispatch.cuh"
#include "common/row_norm.cuh"
#include "common/skip_norm.h"

namespace trtplug
{

template <typename T, int N>
struct SkipLoader
{
    T const* input;
    T const* skip;
    T const* bias;
    int64_t rowLen;
    int64_t skipRows;
    T const* inputRow{nullptr};
    T const* skipRow{nullptr};

    explicit SkipLoader(SkipNormArgs const& a)
        : input(static_cast<T const*>(a.input))
        , skip(static_cast<T const*>(a.skip))
        , bias(static_cast<T const*>(a.bias))
        , rowLen(a.hidden)
        , skipRows(a.skipRows)
    {
    }

    __device__ bool row(int64_t r)
    {
        inputRow = input + r * rowLen;
        skipRow = skip + (r % skipRows) * rowLen;
        return true;
    }

    __device__ void load(int64_t j, float (&v)[N]) const
    {
        float s[N];
        loadFloat<T, N>(inputRow, j, v);
        loadFloat<T, N>(skipRow, j, s);
        float b[N];
        if (bias != nullptr)
        {
            loadFloat<T, N>(bias, j, b);
        }
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            v[i] += s[i] + (bias != nullptr ? b[i] : 0.F);
        }
    }
};

template <typename T, bool kRms>
cudaError_t launchSkipNormTyped(SkipNormArgs const& a, cudaStream_t stream)
{
    NormOutputs<T> out;
    out.y = static_cast<T*>(a.output);
    out.gamma = static_cast<T const*>(a.gamma);
    out.beta = kRms ? nullptr : static_cast<T const*>(a.beta);
    out.sum = static_cast<T*>(a.sum);
    out.mean = a.mean;
    out.invStdVar = a.invStdVar;
    bool const aligned = isAligned(a.input, 16) && isAligned(a.skip, 16) && isAligned(a.gamma, 16)
        && isAligned(a.beta, 16) && isAligned(a.bias, 16) && isAligned(a.output, 16) && isAligned(a.sum, 16);
    return launchRowNorm<T, kRms, SkipLoader>(a, out, a.rows, a.hidden, a.epsilon, aligned, stream);
}

//! Validates, then launches on `stream`; cudaErrorInvalidValue for arguments no kernel takes.
template <bool kRms>
cudaError_t launchSkipNorm(SkipNormArgs const& a, cudaStream_t stream) noexcept
{
    if (skipNormArgsProblem(a) != nullptr)
    {
        return cudaErrorInvalidValue;
    }
    if (a.rows == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(a.dtype, [&](auto zero) { return launchSkipNormTyped<decltype(zero), kRms>(a, stream); });
}

} // namespace trtplug
