#include "common/launch.cuh"
#include "max_unpool/max_unpool.h"

namespace trtplug
{
namespace
{

struct UnpoolDims
{
    int32_t spatial;
    int64_t inferred[kMaxUnpoolMaxSpatial];
    int64_t out[kMaxUnpoolMaxSpatial];
    int64_t inferredVolume; // of one plane
    int64_t outVolume;      // of one plane
    int64_t inferredTotal;  // planes * inferredVolume
    bool same;              // out == inferred: the index is the output offset
};

template <class T>
__global__ void maxUnpoolScatter(T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y,
    int64_t count, UnpoolDims g)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        int64_t const idx = indices[i];
        if (idx < 0 || idx >= g.inferredTotal)
        {
            continue; // not a position of the unpooled tensor: nothing to write
        }
        int64_t dst = idx;
        if (!g.same)
        {
            int64_t rest = idx % g.inferredVolume;
            int64_t offset = 0;
            int64_t outStride = 1;
            for (int32_t d = g.spatial - 1; d >= 0; --d)
            {
                offset += (rest % g.inferred[d]) * outStride;
                rest /= g.inferred[d];
                outStride *= g.out[d];
            }
            dst = (idx / g.inferredVolume) * g.outVolume + offset;
        }
        y[dst] = x[i];
    }
}

} // namespace

cudaError_t launchMaxUnpool(DType dtype, void const* x, int64_t const* indices, void* y, int64_t count, int64_t planes,
    int32_t spatialRank, int64_t const* inferred, int64_t const* out, cudaStream_t stream) noexcept
{
    if (count < 0 || planes < 0 || spatialRank < 1 || spatialRank > kMaxUnpoolMaxSpatial)
    {
        return cudaErrorInvalidValue;
    }
    UnpoolDims g{spatialRank, {}, {}, 1, 1, 0, true};
    for (int32_t d = 0; d < spatialRank; ++d)
    {
        if (inferred[d] < 0 || out[d] < inferred[d])
        {
            return cudaErrorInvalidValue; // the inferred tensor must fit at the output's start
        }
        g.inferred[d] = inferred[d];
        g.out[d] = out[d];
        g.inferredVolume *= inferred[d];
        g.outVolume *= out[d];
        g.same = g.same && inferred[d] == out[d];
    }
    g.inferredTotal = planes * g.inferredVolume;
    size_t const bytes = static_cast<size_t>(planes * g.outVolume) * dtypeSize(dtype);
    if (bytes == 0)
    {
        return cudaSuccess;
    }
    cudaError_t const err = cudaMemsetAsync(y, 0, bytes, stream); // 0 is +0.0 in fp32 and fp16
    if (err != cudaSuccess || count == 0 || g.inferredVolume == 0)
    {
        return err;
    }
    int const blocks = gridFor(count);
    switch (dtype)
    {
    case DType::kFLOAT32:
        maxUnpoolScatter<float><<<blocks, kBlockThreads, 0, stream>>>(
            static_cast<float const*>(x), indices, static_cast<float*>(y), count, g);
        break;
    case DType::kFLOAT16:
        maxUnpoolScatter<__half><<<blocks, kBlockThreads, 0, stream>>>(
            static_cast<__half const*>(x), indices, static_cast<__half*>(y), count, g);
        break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

} // namespace trtplug
