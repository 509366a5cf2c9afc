#include "col2im/col2im.h"
#include "common/launch.cuh"

#include <cmath>
#include <numeric>
#include <limits>

namespace trtplug
{
namespace
{

//! Per-axis geometry in 32 bits (the launcher checks the ranges), S spatial axes. Kernel offsets
//! k that reach a padded coordinate p (k * dilation == p mod stride) step by kStep = stride / g,
//! their block positions by bStep = dilation / g (g = gcd(dilation, stride)); the first is
//! (p / g) * inverse mod kStep, inverse that of dilation / g modulo kStep.
template <int S>
struct Axes
{
    int32_t image[S];
    int32_t dilation[S];
    int32_t padBegin[S];
    int32_t padEnd[S];
    int32_t stride[S];
    int32_t gcd[S];
    int32_t kStep[S];
    int32_t bStep[S];
    int32_t inverse[S];
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

//! The first (smallest) kernel offset k along axis d that reaches padded coordinate p from a block
//! position b < count, and that b; k >= block when there is none. Later ones: k + kStep, b - bStep.
template <int S>
__device__ __forceinline__ void firstSource(
    Axes<S> const& axes, int d, int32_t p, int32_t block, int32_t count, int32_t& k, int32_t& b)
{
    int64_t k0 = 0;
    int64_t b0 = p;
    if (axes.stride[d] != 1)
    {
        if (p % axes.gcd[d] != 0)
        {
            k = block;
            return;
        }
        k0 = axes.kStep[d] == 1 ? 0 : int64_t{p / axes.gcd[d] % axes.kStep[d]} * axes.inverse[d] % axes.kStep[d];
        b0 = (p - k0 * axes.dilation[d]) / axes.stride[d];
    }
    if (b0 >= count && count > 0)
    {
        int64_t const skip = (b0 - count) / axes.bStep[d] + 1; // past the last block position
        k0 += skip * axes.kStep[d];
        b0 -= skip * axes.bStep[d];
    }
    bool const none = count == 0 || b0 < 0 || k0 >= block;
    k = none ? block : static_cast<int32_t>(k0);
    b = static_cast<int32_t>(b0);
}

//! Sum over the kernel offsets of axes D.. of the input columns that land on the output element
//! whose first sources per axis are (k, b).
template <int D, int S, class T>
__device__ __forceinline__ float gatherAxes(T const* __restrict__ cols, Col2ImArgs<S> const& a,
    int32_t const (&k0)[S], int32_t const (&b0)[S], int32_t const (&block)[S], int32_t const (&count)[S],
    int64_t kOff, int64_t lOff)
{
    int32_t const kStep = a.axes.kStep[D];
    int32_t const bStep = a.axes.bStep[D];
    float sum = 0.F;
    if constexpr (D == S - 1)
    {
        // Last axis: four loads issued before their sum, so several are in flight per thread.
        constexpr int kChunk = 4;
        for (int64_t k = k0[D], b = b0[D]; k < block[D] && b >= 0; k += kChunk * kStep, b -= kChunk * bStep)
        {
            float v[kChunk];
#pragma unroll
            for (int j = 0; j < kChunk; ++j)
            {
                int64_t const kj = k + j * kStep;
                int64_t const bj = b - j * bStep;
                v[j] = kj < block[D] && bj >= 0 ? toFloat(cols[(kOff * block[D] + kj) * a.columns + lOff * count[D] + bj])
                                                : 0.F;
            }
            sum += (v[0] + v[1]) + (v[2] + v[3]);
        }
    }
    else
    {
        for (int64_t k = k0[D], b = b0[D]; k < block[D] && b >= 0; k += kStep, b -= bStep)
        {
            sum += gatherAxes<D + 1, S>(cols, a, k0, b0, block, count, kOff * block[D] + k, lOff * count[D] + b);
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
        int32_t k0[S];
        int32_t b0[S];
#pragma unroll
        for (int d = 0; d < S; ++d)
        {
            firstSource(a.axes, d, pos[d], block[d], count[d], k0[d], b0[d]);
        }
        T const* cols = input + static_cast<int64_t>(plane) * a.kernel * a.columns;
        float const sum = ok ? gatherAxes<0, S>(cols, a, k0, b0, block, count, 0, 0) : NAN;
        output[i] = fromFloat<T>(sum);
    }
}

//! x^-1 modulo m for gcd(x, m) == 1 (extended Euclid); 0 when m == 1.
int64_t inverseModulo(int64_t x, int64_t m) noexcept
{
    int64_t r0 = m;
    int64_t r1 = x % m;
    int64_t t0 = 0;
    int64_t t1 = 1;
    while (r1 != 0)
    {
        int64_t const q = r0 / r1;
        int64_t const r2 = r0 - q * r1;
        int64_t const t2 = t0 - q * t1;
        r0 = r1;
        r1 = r2;
        t0 = t1;
        t1 = t2;
    }
    return m == 1 ? 0 : (t0 % m + m) % m;
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
        int64_t const common = std::gcd(g.dilations[d], g.strides[d]);
        a.axes.gcd[d] = static_cast<int32_t>(common);
        a.axes.kStep[d] = static_cast<int32_t>(g.strides[d] / common);
        a.axes.bStep[d] = static_cast<int32_t>(g.dilations[d] / common);
        a.axes.inverse[d] = static_cast<int32_t>(inverseModulo(g.dilations[d] / common, g.strides[d] / common));
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
