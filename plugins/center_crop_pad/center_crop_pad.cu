#include "center_crop_pad/center_crop_pad.h"
#include "common/launch.cuh"

namespace trtplug
{
namespace
{

struct CropPadDims
{
    int32_t rank;
    int64_t outDims[kCenterCropPadMaxRank];
    int64_t inDims[kCenterCropPadMaxRank];
    int64_t offset[kCenterCropPadMaxRank];
    int64_t volume;
};

// One thread per output element: the element type only matters by size (a copy or a zero).
template <class T>
__global__ void centerCropPad(T const* __restrict__ x, T* __restrict__ y, CropPadDims g)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < g.volume; i += stride)
    {
        int64_t rest = i;
        int64_t src = 0;
        int64_t inStride = 1;
        bool inside = true;
        for (int32_t d = g.rank - 1; d >= 0; --d)
        {
            int64_t const c = rest % g.outDims[d] + g.offset[d];
            rest /= g.outDims[d];
            inside = inside && c >= 0 && c < g.inDims[d];
            src += c * inStride;
            inStride *= g.inDims[d];
        }
        y[i] = inside ? x[src] : T{0};
    }
}

} // namespace

cudaError_t launchCenterCropPad(DType dtype, void const* x, void* y, int32_t rank, int64_t const* inDims,
    int64_t const* outDims, cudaStream_t stream) noexcept
{
    if (rank < 0 || rank > kCenterCropPadMaxRank)
    {
        return cudaErrorInvalidValue;
    }
    CropPadDims g{rank, {}, {}, {}, 1};
    for (int32_t d = 0; d < rank; ++d)
    {
        if (inDims[d] < 0 || outDims[d] < 0)
        {
            return cudaErrorInvalidValue;
        }
        g.inDims[d] = inDims[d];
        g.outDims[d] = outDims[d];
        g.offset[d] = (inDims[d] - outDims[d]) / 2; // truncation: floor for crops, ceil for pads
        g.volume *= outDims[d];
    }
    if (g.volume == 0)
    {
        return cudaSuccess;
    }
    int const blocks = gridFor(g.volume);
    switch (dtypeSize(dtype))
    {
    case 1: centerCropPad<uint8_t><<<blocks, kBlockThreads, 0, stream>>>(
        static_cast<uint8_t const*>(x), static_cast<uint8_t*>(y), g); break;
    case 2: centerCropPad<uint16_t><<<blocks, kBlockThreads, 0, stream>>>(
        static_cast<uint16_t const*>(x), static_cast<uint16_t*>(y), g); break;
    case 4: centerCropPad<uint32_t><<<blocks, kBlockThreads, 0, stream>>>(
        static_cast<uint32_t const*>(x), static_cast<uint32_t*>(y), g); break;
    case 8: centerCropPad<uint64_t><<<blocks, kBlockThreads, 0, stream>>>(
        static_cast<uint64_t const*>(x), static_cast<uint64_t*>(y), g); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

} // namespace trtplug
