#include "common/launch.cuh"
#include "max_pool_with_indices/max_pool_with_indices.h"

namespace trtplug
{
namespace
{

// One thread per output element; the window is walked in row-major order of its offsets.
template <class T>
__global__ void maxPoolWithIndices(
    T const* __restrict__ x, T* __restrict__ y, int64_t* __restrict__ indices, int64_t total, PoolGeometry g)
{
    int64_t inVolume = 1;
    int64_t outVolume = 1;
    int32_t window = 1;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        inVolume *= g.in[d];
        outVolume *= g.out[d];
        window *= g.kernel[d];
    }
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t o = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; o < total; o += stride)
    {
        int64_t start[kMaxPoolMaxSpatial];
        int64_t rest = o % outVolume;
        for (int32_t d = g.spatial - 1; d >= 0; --d)
        {
            start[d] = (rest % g.out[d]) * g.stride[d] - g.begin[d];
            rest /= g.out[d];
        }
        T const* plane = x + (o / outVolume) * inVolume;
        float best = -INFINITY;
        int64_t bestIndex = -1;
        for (int32_t w = 0; w < window; ++w)
        {
            int32_t offset = w;
            int64_t rowMajor = 0;
            int64_t colMajor = 0;
            int64_t rowStep = 1;
            int64_t colStep = inVolume;
            bool inside = true;
            for (int32_t d = g.spatial - 1; d >= 0; --d)
            {
                int64_t const c = start[d] + int64_t{offset % g.kernel[d]} * g.dilation[d];
                offset /= g.kernel[d];
                inside = inside && c >= 0 && c < g.in[d];
                rowMajor += c * rowStep;
                rowStep *= g.in[d];
                colStep /= g.in[d];
                colMajor += c * colStep;
            }
            if (inside)
            {
                float const v = toFloat(plane[rowMajor]);
                if (v > best)
                {
                    best = v;
                    bestIndex = g.columnMajor ? colMajor : rowMajor;
                }
            }
        }
        y[o] = fromFloat<T>(best);
        indices[o] = bestIndex < 0 ? -1 : (o / outVolume) * inVolume + bestIndex;
    }
}

} // namespace

cudaError_t launchMaxPoolWithIndices(DType dtype, void const* x, void* y, int64_t* indices, int64_t planes,
    PoolGeometry const& g, cudaStream_t stream) noexcept
{
    if (planes < 0 || g.spatial < 1 || g.spatial > kMaxPoolMaxSpatial)
    {
        return cudaErrorInvalidValue;
    }
    int64_t total = planes;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        if (g.out[d] < 0 || g.in[d] < 0 || g.kernel[d] < 1 || g.stride[d] < 1 || g.dilation[d] < 1)
        {
            return cudaErrorInvalidValue;
        }
        total *= g.out[d];
    }
    if (total == 0)
    {
        return cudaSuccess;
    }
    int const blocks = gridFor(total);
    switch (dtype)
    {
    case DType::kFLOAT32:
        maxPoolWithIndices<float><<<blocks, kBlockThreads, 0, stream>>>(
            static_cast<float const*>(x), static_cast<float*>(y), indices, total, g);
        break;
    case DType::kFLOAT16:
        maxPoolWithIndices<__half><<<blocks, kBlockThreads, 0, stream>>>(
            static_cast<__half const*>(x), static_cast<__half*>(y), indices, total, g);
        break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

} // namespace trtplug
