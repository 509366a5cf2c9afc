#include "common/scatter_reduce.cuh"
#include "scatter_nd/scatter_nd.h"

namespace trtplug
{
namespace
{

struct NDDims
{
    int32_t k;
    int64_t dims[kScatterNDMaxRank]; // data dims of the indexed axes
    int64_t strides[kScatterNDMaxRank];
    int64_t sliceSize;
    int64_t updates;
};

template <class T>
__global__ void scatterND(int64_t const* __restrict__ indices, T const* __restrict__ updates, T* out, NDDims g,
    ScatterReduction r)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < g.updates; i += stride)
    {
        int64_t const j = i / g.sliceSize;
        int64_t base = 0;
        bool valid = true;
        for (int32_t t = 0; t < g.k; ++t)
        {
            int64_t const index = scatter::wrapIndex(indices[j * g.k + t], g.dims[t]);
            valid = valid && index >= 0;
            base += index * g.strides[t];
        }
        if (valid)
        {
            scatter::apply(r, out + base + i % g.sliceSize, updates[i]);
        }
    }
}

} // namespace

cudaError_t launchScatterND(DType dtype, void const* data, int64_t const* indices, void const* updates, void* out,
    int32_t dataRank, int64_t const* dataDims, int64_t slices, int32_t k, ScatterReduction reduction,
    cudaStream_t stream) noexcept
{
    if (dataRank < 1 || dataRank > kScatterNDMaxRank || k < 1 || k > dataRank || slices < 0)
    {
        return cudaErrorInvalidValue;
    }
    NDDims g{k, {}, {}, 1, 0};
    int64_t dataVolume = 1;
    for (int32_t d = dataRank - 1; d >= 0; --d)
    {
        if (d < k)
        {
            g.dims[d] = dataDims[d];
            g.strides[d] = dataVolume;
        }
        else
        {
            g.sliceSize *= dataDims[d];
        }
        dataVolume *= dataDims[d];
    }
    g.updates = slices * g.sliceSize;
    cudaError_t const err = scatter::copyData(data, out, dataVolume, dtype, stream);
    if (err != cudaSuccess || g.updates == 0 || dataVolume == 0)
    {
        return err;
    }
    return scatter::dispatchType(dtype, [&](auto zero) {
        using T = decltype(zero);
        scatterND<T><<<gridFor(g.updates), kBlockThreads, 0, stream>>>(
            indices, static_cast<T const*>(updates), static_cast<T*>(out), g, reduction);
    });
}

} // namespace trtplug
