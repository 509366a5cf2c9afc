// The RMS-norm family's kernel: rowNormKernel (plugins/common/row_norm.cuh) in its RMS form
// with a loader that reads X alone, or X and GatedRMSNorm's gate (its finish step).
#include "common/activations.cuh"
#include "common/dtype_dispatch.cuh"
#include "common/row_norm.cuh"
#include "rms_norm/rms_norm.h"


namespace trtplug
{
namespace
{

template <typename T, int N>
struct PlainRowLoader
{
    T const* x;
    int64_t cols;
    T const* rowStart{nullptr};

    explicit PlainRowLoader(RmsNormArgs const& a)
        : x(static_cast<T const*>(a.x))
        , cols(a.cols)
    {
    }

    __device__ bool row(int64_t r)
    {
        rowStart = x + r * cols;
        return true;
    }

    __device__ void load(int64_t j, float (&v)[N]) const
    {
        loadFloat<T, N>(rowStart, j, v);
    }
};

//! GatedRMSNorm: X's rows, and the finish step Y *= silu(gate) (or sigmoid(gate)) in float32,
//! gate shaped like X.
template <typename T, int N>
struct GatedRowLoader : PlainRowLoader<T, N>
{
    static constexpr bool kFinishes = true;
    T const* gate;
    bool silu;
    T const* gateRow{nullptr};

    explicit GatedRowLoader(RmsNormArgs const& a)
        : PlainRowLoader<T, N>(a)
        , gate(static_cast<T const*>(a.gate))
        , silu(a.gateSilu)
    {
    }

    __device__ bool row(int64_t r)
    {
        gateRow = gate + r * this->cols;
        return PlainRowLoader<T, N>::row(r);
    }

    __device__ void finish(int64_t j, float (&y)[N]) const
    {
        float z[N];
        loadFloat<T, N>(gateRow, j, z);
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            float const sigmoid = sigmoidFor<T>(z[i]);
            y[i] *= silu ? z[i] * sigmoid : sigmoid;
        }
    }
};

template <typename T>
cudaError_t launchTyped(RmsNormArgs const& a, cudaStream_t stream)
{
    NormOutputs<T> out;
    out.y = static_cast<T*>(a.y);
    out.gamma = static_cast<T const*>(a.scale);
    out.invStdVar = a.invStdVar;
    bool const aligned
        = isAligned(a.x, 16) && isAligned(a.scale, 16) && isAligned(a.y, 16) && isAligned(a.gate, 16);
    if (a.gate != nullptr)
    {
        return launchRowNorm<T, /*kRms=*/true, GatedRowLoader>(a, out, a.rows, a.cols, a.epsilon, aligned, stream);
    }
    return launchRowNorm<T, /*kRms=*/true, PlainRowLoader>(a, out, a.rows, a.cols, a.epsilon, aligned, stream);
}

} // namespace

cudaError_t launchRmsNorm(RmsNormArgs const& a, cudaStream_t stream) noexcept
{
    if (rmsNormArgsProblem(a) != nullptr)
    {
        return cudaErrorInvalidValue;
    }
    if (a.rows == 0)
    {
        return cudaSuccess; // nothing to read or write: X (and so every output) is empty
    }
    return forFloatOrBf16Type(a.dtype, [&](auto zero) { return launchTyped<decltype(zero)>(a, stream); });
}

} // namespace trtplug
