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

// N consecutive elements of one slice per thread (sliceSize % N == 0): one index tuple read per
// N updates; reduction "none" moves them as one vector when N > 1.
template <class T, int N>
__global__ void scatterND(int64_t const* __restrict__ indices, T const* __restrict__ updates, T* out, NDDims g,
    ScatterReduction r)
{
    using V = Vec<T, N>;
    int64_t const groups = g.updates / N;
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t v = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; v < groups; v += stride)
    {
        int64_t const i = v * N;
        int64_t const j = i / g.sliceSize;
        int64_t base = 0;
        bool valid = true;
        for (int32_t t = 0; t < g.k; ++t)
        {
            int64_t const index = scatter::wrapIndex(indices[j * g.k + t], g.dims[t]);
            valid = valid && index >= 0;
            base += index * g.strides[t];
        }
        if (!valid)
        {
            continue;
        }
        T* dst = out + base + i % g.sliceSize;
        if (N > 1 && r == ScatterReduction::kNONE)
        {
            *reinterpret_cast<V*>(dst) = reinterpret_cast<V const*>(updates)[v];
            continue;
        }
#pragma unroll
        for (int e = 0; e < N; ++e)
        {
            scatter::apply(r, dst + e, updates[i + e]);
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
        constexpr int kVec = 16 / sizeof(T);
        auto const* u = static_cast<T const*>(updates);
        auto* o = static_cast<T*>(out);
        if (g.sliceSize % kVec == 0 && isAligned(updates, 16) && isAligned(out, 16))
        {
            scatterND<T, kVec><<<gridFor(g.updates / kVec), kBlockThreads, 0, stream>>>(indices, u, o, g, reduction);
        }
        else
        {
            scatterND<T, 1><<<gridFor(g.updates), kBlockThreads, 0, stream>>>(indices, u, o, g, reduction);
        }
    });
}

} // namespace trtplug
