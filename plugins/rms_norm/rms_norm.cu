// The RMS-norm family's kernel: rowNormKernel (plugins/common/row_norm.cuh) in its RMS form
// with a loader that reads X alone.
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

template <typename T>
cudaError_t launchTyped(RmsNormArgs const& a, cudaStream_t stream)
{
    NormOutputs<T> out;
    out.y = static_cast<T*>(a.y);
    out.gamma = static_cast<T const*>(a.scale);
    out.invStdVar = a.invStdVar;
    bool const aligned = isAligned(a.x, 16) && isAligned(a.scale, 16) && isAligned(a.y, 16);
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
