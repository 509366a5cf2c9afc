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

struct TileDims
{
    int32_t spatial;
    int64_t out[kMaxUnpoolMaxSpatial]; // == inferred
    int64_t tile[kMaxUnpoolMaxSpatial];
    int64_t outVolume; // of one plane
    int64_t inVolume;  // of one plane of x
    int64_t total;     // planes * outVolume
};

//! Index in x of the window holding output offset `o`; `first`: o is that window's first element.
__device__ __forceinline__ int64_t windowOf(int64_t o, TileDims const& g, bool& first)
{
    int64_t rest = o % g.outVolume;
    int64_t window = 0;
    int64_t inStride = 1;
    first = true;
    for (int32_t d = g.spatial - 1; d >= 0; --d)
    {
        int64_t const c = rest % g.out[d];
        rest /= g.out[d];
        first = first && c % g.tile[d] == 0;
        window += (c / g.tile[d]) * inStride;
        inStride *= g.out[d] / g.tile[d];
    }
    return (o / g.outVolume) * g.inVolume + window;
}

// One thread per output element: the value of its window if the window's index names it, else 0.
template <class T>
__global__ void maxUnpoolGather(T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y,
    TileDims g, int32_t* __restrict__ flag)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t o = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; o < g.total; o += stride)
    {
        bool first = false;
        int64_t const i = windowOf(o, g, first);
        int64_t const idx = indices[i];
        y[o] = idx == o ? x[i] : T(0.f);
        if (first && idx >= 0 && idx < g.total)
        {
            bool unused = false;
            if (windowOf(idx, g, unused) != i)
            {
                *flag = 1; // an index outside its window: the fix-up pass writes it
            }
        }
    }
}

// After the gather, only where some index left its window: those values, written as a scatter.
template <class T>
__global__ void maxUnpoolFixup(T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y,
    int64_t count, TileDims g, int32_t const* __restrict__ flag)
{
    if (*flag == 0)
    {
        return;
    }
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        int64_t const idx = indices[i];
        bool unused = false;
        if (idx >= 0 && idx < g.total && windowOf(idx, g, unused) != i)
        {
            y[idx] = x[i];
        }
    }
}

template <class T>
cudaError_t launchGather(void const* x, int64_t const* indices, void* y, int64_t count, TileDims const& g,
    int32_t* flag, cudaStream_t stream)
{
    cudaError_t const err = cudaMemsetAsync(flag, 0, sizeof(int32_t), stream);
    if (err != cudaSuccess)
    {
        return err;
    }
    auto const* xt = static_cast<T const*>(x);
    auto* yt = static_cast<T*>(y);
    maxUnpoolGather<T><<<gridFor(g.total), kBlockThreads, 0, stream>>>(xt, indices, yt, g, flag);
    maxUnpoolFixup<T><<<gridFor(count), kBlockThreads, 0, stream>>>(xt, indices, yt, count, g, flag);
    return cudaGetLastError();
}

//! The tiling description when `tile` applies (see launchMaxUnpool), else false.
bool tiling(int32_t spatial, int64_t const* inferred, int64_t const* out, int64_t const* tile, int64_t planes,
    int64_t count, TileDims& g)
{
    if (tile == nullptr)
    {
        return false;
    }
    g = TileDims{spatial, {}, {}, 1, 1, 0};
    for (int32_t d = 0; d < spatial; ++d)
    {
        if (out[d] != inferred[d] || tile[d] <= 0 || inferred[d] % tile[d] != 0)
        {
            return false;
        }
        g.out[d] = out[d];
        g.tile[d] = tile[d];
        g.outVolume *= out[d];
        g.inVolume *= out[d] / tile[d];
    }
    g.total = planes * g.outVolume;
    return count == planes * g.inVolume;
}

} // namespace

cudaError_t launchMaxUnpool(DType dtype, void const* x, int64_t const* indices, void* y, int64_t count, int64_t planes,
    int32_t spatialRank, int64_t const* inferred, int64_t const* out, int64_t const* tile, int32_t* flag,
    cudaStream_t stream) noexcept
{
    if (count < 0 || planes < 0 || spatialRank < 1 || spatialRank > kMaxUnpoolMaxSpatial)
    {
        return cudaErrorInvalidValue;
    }
    TileDims tiles{};
    if (flag != nullptr && tiling(spatialRank, inferred, out, tile, planes, count, tiles) && tiles.total > 0)
    {
        switch (dtype)
        {
        case DType::kFLOAT32: return launchGather<float>(x, indices, y, count, tiles, flag, stream);
        case DType::kFLOAT16: return launchGather<__half>(x, indices, y, count, tiles, flag, stream);
        default: return cudaErrorInvalidValue;
        }
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
