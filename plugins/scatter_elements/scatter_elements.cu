#include "common/scatter_reduce.cuh"
#include "scatter_elements/scatter_elements.h"

namespace trtplug
{
namespace
{

struct ElementsDims
{
    int32_t rank;
    int32_t axis;
    int64_t updateDims[kScatterMaxRank];
    int64_t dataStrides[kScatterMaxRank];
    int64_t axisDim;
    int64_t updates;
};

template <class T>
__global__ void scatterElements(
    int64_t const* __restrict__ indices, T const* __restrict__ updates, T* out, ElementsDims g, ScatterReduction r)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < g.updates; i += stride)
    {
        int64_t const target = scatter::wrapIndex(indices[i], g.axisDim);
        if (target < 0)
        {
            continue;
        }
        int64_t rest = i;
        int64_t offset = 0;
        for (int32_t d = g.rank - 1; d >= 0; --d)
        {
            int64_t const c = rest % g.updateDims[d];
            rest /= g.updateDims[d];
            offset += (d == g.axis ? target : c) * g.dataStrides[d];
        }
        scatter::apply(r, out + offset, updates[i]);
    }
}

} // namespace

cudaError_t launchScatterElements(DType dtype, void const* data, int64_t const* indices, void const* updates, void* out,
    int32_t rank, int64_t const* dataDims, int64_t const* updateDims, int32_t axis, ScatterReduction reduction,
    cudaStream_t stream) noexcept
{
    if (rank < 1 || rank > kScatterMaxRank || axis < 0 || axis >= rank)
    {
        return cudaErrorInvalidValue;
    }
    ElementsDims g{rank, axis, {}, {}, dataDims[axis], 1};
    int64_t dataVolume = 1;
    for (int32_t d = rank - 1; d >= 0; --d)
    {
        if (updateDims[d] > dataDims[d] && d != axis)
        {
            return cudaErrorInvalidValue; // off-axis update coordinates must address data
        }
        g.dataStrides[d] = dataVolume;
        dataVolume *= dataDims[d];
        g.updateDims[d] = updateDims[d];
        g.updates *= updateDims[d];
    }
    cudaError_t const err = scatter::copyData(data, out, dataVolume, dtype, stream);
    if (err != cudaSuccess || g.updates == 0 || dataVolume == 0)
    {
        return err;
    }
    return scatter::dispatchType(dtype, [&](auto zero) {
        using T = decltype(zero);
        scatterElements<T><<<gridFor(g.updates), kBlockThreads, 0, stream>>>(
            indices, static_cast<T const*>(updates), static_cast<T*>(out), g, reduction);
    });
}

} // namespace trtplug
