#include "col2im/col2im.h"
#include "common/launch.cuh"

#include <cmath>
#include <limits>

namespace trtplug
{
namespace
{

//! Per-axis geometry in 32 bits (the launcher checks the ranges), S spatial axes.
template <int S>
struct Axes
{
    int32_t image[S];
    int32_t dilation[S];
    int32_t padBegin[S];
    int32_t padEnd[S];
    int32_t stride[S];
};

template <int S>
struct Col2ImArgs
{
    Axes<S> axes;
    int64_t kernel;
    int64_t columns;
    int64_t spatialVolume;
    int64_t total; //!< output elements
};

//! Block lengths and positions per axis from the device block_shape; false when they disagree
//! with the host's kernel and column counts (then the output is NaN, never an out-of-bounds read).
template <int S>
__device__ bool loadBlocks(int64_t const* blockShape, Col2ImArgs<S> const& a, int32_t (&block)[S], int32_t (&count)[S])
{
    bool ok = true;
    int64_t kernel = 1;
    int64_t columns = 1;
#pragma unroll
    for (int d = 0; d < S; ++d)
    {
        int64_t b = __ldg(blockShape + d);
        ok = ok && b >= 1 && b <= INT32_MAX;
        b = ok ? b : 1;
        int64_t const span = int64_t{a.axes.image[d]} + a.axes.padBegin[d] + a.axes.padEnd[d]
            - int64_t{a.axes.dilation[d]} * (b - 1) - 1;
        int64_t const n = span < 0 ? 0 : span / a.axes.stride[d] + 1;
        block[d] = static_cast<int32_t>(b);
        count[d] = static_cast<int32_t>(n);
        kernel *= b;
        columns *= n;
    }
    return ok && kernel == a.kernel && columns == a.columns;
}

//! Block position along axis D that kernel offset k of the padded coordinate `pos` comes from; -1 if none.
template <int S>
__device__ __forceinline__ int32_t sourcePosition(Axes<S> const& axes, int D, int32_t pos, int32_t k, int32_t count)
{
    int32_t const q = pos - k * axes.dilation[D];
    if (q < 0)
    {
        return -1;
    }
    int32_t b = q;
    if (axes.stride[D] != 1)
    {
        b = q / axes.stride[D];
        if (b * axes.stride[D] != q)
        {
            return -1;
        }
    }
    return b < count ? b : -1;
}

//! Sum over the kernel offsets of axes D.. of the input columns that land on `pos` (padded coordinates).
template <int D, int S, class T>
__device__ __forceinline__ float gatherAxes(T const* __restrict__ cols, Col2ImArgs<S> const& a,
    int32_t const (&pos)[S], int32_t const (&block)[S], int32_t const (&count)[S], int64_t kOff, int64_t lOff)
{
    float sum = 0.F;
    if constexpr (D == S - 1)
    {
        // Last axis: unrolled so that several loads are in flight before the first add.
#pragma unroll 4
        for (int32_t k = 0; k < block[D]; ++k)
        {
            int32_t const b = sourcePosition(a.axes, D, pos[D], k, count[D]);
            if (b >= 0)
            {
                sum += toFloat(cols[(kOff * block[D] + k) * a.columns + lOff * count[D] + b]);
            }
        }
    }
    else
    {
        for (int32_t k = 0; k < block[D]; ++k)
        {
            int32_t const b = sourcePosition(a.axes, D, pos[D], k, count[D]);
            if (b >= 0)
            {
                sum += gatherAxes<D + 1, S>(cols, a, pos, block, count, kOff * block[D] + k, lOff * count[D] + b);
            }
        }
    }
    return sum;
}

//! One thread per output element (grid-stride); I is the index type of the flat output index.
template <int S, class T, class I>
__global__ void col2imGather(T const* __restrict__ input, int64_t const* __restrict__ blockShape,
    T* __restrict__ output, Col2ImArgs<S> a)
{
    int32_t block[S];
    int32_t count[S];
    bool const ok = loadBlocks(blockShape, a, block, count);
    I const total = static_cast<I>(a.total);
    I const volume = static_cast<I>(a.spatialVolume);
    I const step = static_cast<I>(gridDim.x) * blockDim.x;
    for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step)
    {
        I const plane = i / volume;
        I rest = i - plane * volume;
        int32_t pos[S];
#pragma unroll
        for (int d = S - 1; d > 0; --d)
        {
            I const next = rest / static_cast<I>(a.axes.image[d]);
            pos[d] = static_cast<int32_t>(rest - next * a.axes.image[d]) + a.axes.padBegin[d];
            rest = next;
        }
        pos[0] = static_cast<int32_t>(rest) + a.axes.padBegin[0];
        T const* cols = input + static_cast<int64_t>(plane) * a.kernel * a.columns;
        float const sum = ok ? gatherAxes<0, S>(cols, a, pos, block, count, 0, 0) : NAN;
        output[i] = fromFloat<T>(sum);
    }
}

template <int S, class T>
cudaError_t launchTyped(void const* input, int64_t const* blockShape, void* output, Col2ImGeometry const& g,
    int64_t total, cudaStream_t stream)
{
    Col2ImArgs<S> a{};
    for (int d = 0; d < S; ++d)
    {
        a.axes.image[d] = static_cast<int32_t>(g.image[d]);
        a.axes.dilation[d] = static_cast<int32_t>(g.dilations[d]);
        a.axes.padBegin[d] = static_cast<int32_t>(g.padBegin[d]);
        a.axes.padEnd[d] = static_cast<int32_t>(g.padEnd[d]);
        a.axes.stride[d] = static_cast<int32_t>(g.strides[d]);
    }
    a.kernel = g.kernel;
    a.columns = g.columns;
    a.spatialVolume = total / (g.batch * g.channels);
    a.total = total;
    auto const* x = static_cast<T const*>(input);
    auto* y = static_cast<T*>(output);
    int const blocks = gridFor(total);
    if (total <= std::numeric_limits<uint32_t>::max())
    {
        col2imGather<S, T, uint32_t><<<blocks, kBlockThreads, 0, stream>>>(x, blockShape, y, a);
    }
    else
    {
        col2imGather<S, T, int64_t><<<blocks, kBlockThreads, 0, stream>>>(x, blockShape, y, a);
    }
    return cudaGetLastError();
}

template <class T>
cudaError_t launchSpatial(void const* input, int64_t const* blockShape, void* output, Col2ImGeometry const& g,
    int64_t total, cudaStream_t stream)
{
    switch (g.spatial)
    {
    case 1: return launchTyped<1, T>(input, blockShape, output, g, total, stream);
    case 2: return launchTyped<2, T>(input, blockShape, output, g, total, stream);
    case 3: return launchTyped<3, T>(input, blockShape, output, g, total, stream);
    case 4: return launchTyped<4, T>(input, blockShape, output, g, total, stream);
    case 5: return launchTyped<5, T>(input, blockShape, output, g, total, stream);
    case 6: return launchTyped<6, T>(input, blockShape, output, g, total, stream);
    default: return cudaErrorInvalidValue;
    }
}

//! Every per-axis value, padded extent and dilated extent must fit the kernel's 32-bit axis math.
bool fitsInt32(Col2ImGeometry const& g) noexcept
{
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        if (g.image[d] < 0 || g.dilations[d] < 1 || g.strides[d] < 1 || g.padBegin[d] < 0 || g.padEnd[d] < 0
            || g.image[d] + g.padBegin[d] + g.padEnd[d] > kMax || g.dilations[d] > kMax || g.strides[d] > kMax)
        {
            return false;
        }
    }
    return true;
}

} // namespace

cudaError_t launchCol2Im(DType dtype, void const* input, int64_t const* blockShape, void* output,
    Col2ImGeometry const& g, cudaStream_t stream) noexcept
{
    if (g.spatial < 1 || g.spatial > kCol2ImMaxSpatial || g.batch < 0 || g.channels < 0 || g.kernel < 0
        || g.columns < 0 || !fitsInt32(g))
    {
        return cudaErrorInvalidValue;
    }
    int64_t total = g.batch * g.channels;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        total *= g.image[d];
    }
    if (total == 0)
    {
        return cudaSuccess;
    }
    switch (dtype)
    {
    case DType::kFLOAT32: return launchSpatial<float>(input, blockShape, output, g, total, stream);
    case DType::kFLOAT16: return launchSpatial<__half>(input, blockShape, output, g, total, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug
