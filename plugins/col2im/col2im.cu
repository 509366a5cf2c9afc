#include "common/dtype_dispatch.cuh"
#include "col2im/col2im.h"
#include "common/launch.cuh"

#include <cmath>
#include <limits>
#include <numeric>

namespace trtplug
{
namespace
{

//! n / value by a multiply and a shift (Granlund-Montgomery), for the 32-bit index path: a
//! run-time integer division costs some twenty instructions, and each output needs several.
struct Divisor
{
    uint32_t value{1};
    uint32_t mul{1};
    uint32_t shift{0};

    static Divisor of(uint32_t d) noexcept
    {
        Divisor v{d, 0, 0};
        while ((uint64_t{1} << v.shift) < d)
        {
            ++v.shift;
        }
        v.mul = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << v.shift) - d)) / d + 1);
        return v;
    }
};

__device__ __forceinline__ uint32_t quotient(uint32_t n, Divisor const& d)
{
    return static_cast<uint32_t>((uint64_t{__umulhi(n, d.mul)} + n) >> d.shift);
}
__device__ __forceinline__ int64_t quotient(int64_t n, Divisor const& d)
{
    return n / d.value; // the past-2**32-elements path: plain division
}

//! Per-axis geometry in 32 bits (the launcher checks the ranges), S spatial axes. The kernel
//! offsets k that reach a padded coordinate come every kStep = stride / g, their block positions
//! every bStep = dilation / g (g = gcd(dilation, stride)).
template <int S>
struct Axes
{
    Divisor image[S];
    Divisor stride[S];
    Divisor bStep[S];
    int32_t dilation[S];
    int32_t padBegin[S];
    int32_t padEnd[S];
    int32_t kStep[S];
    int32_t dilationQuot[S]; //!< dilation / stride
    int32_t dilationRem[S];  //!< dilation % stride
};

template <int S>
struct Col2ImArgs
{
    Axes<S> axes;
    Divisor volume;        //!< output elements per plane (32-bit path)
    int64_t spatialVolume; //!< the same, for the 64-bit path
    int64_t kernel;
    int64_t columns;
    int64_t planeElements; //!< kernel * columns: input elements per output plane
    int64_t total;         //!< output elements
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
        int64_t const span = int64_t{a.axes.image[d].value} + a.axes.padBegin[d] + a.axes.padEnd[d]
            - int64_t{a.axes.dilation[d]} * (b - 1) - 1;
        int64_t const n = span < 0 ? 0 : span / a.axes.stride[d].value + 1;
        block[d] = static_cast<int32_t>(b);
        count[d] = static_cast<int32_t>(n);
        kernel *= b;
        columns *= n;
    }
    return ok && kernel == a.kernel && columns == a.columns;
}

//! The first (smallest) kernel offset k along axis d that reaches padded coordinate p from a block
//! position b < count, and that b; k >= block when there is none. Later ones: k + kStep, b - bStep.
//! No division but two by constants: p = b * stride + k * dilation is solved by stepping k.
template <int S>
__device__ __forceinline__ void firstSource(
    Axes<S> const& axes, int d, int32_t p, int32_t block, int32_t count, int32_t& k, int32_t& b)
{
    int64_t k0 = 0;
    int64_t b0 = p;
    if (axes.stride[d].value != 1)
    {
        // Remainder r and quotient q of p - k * dilation by the stride, for k = 0, 1, ... < kStep.
        int32_t const s = static_cast<int32_t>(axes.stride[d].value);
        int32_t q = static_cast<int32_t>(quotient(static_cast<uint32_t>(p), axes.stride[d]));
        int32_t r = p - q * s;
        int32_t const tries = min(block, axes.kStep[d]);
        int32_t kk = 0;
        while (r != 0 && kk + 1 < tries)
        {
            ++kk;
            r -= axes.dilationRem[d];
            q -= axes.dilationQuot[d];
            if (r < 0)
            {
                r += s;
                --q;
            }
        }
        k0 = r == 0 ? kk : block;
        b0 = q;
    }
    if (b0 >= count && count > 0 && k0 < block)
    {
        // Past the last block position: skip ahead.
        int64_t const skip = quotient(static_cast<uint32_t>(b0 - count), axes.bStep[d]) + 1;
        k0 += skip * axes.kStep[d];
        b0 -= skip * axes.bStep[d].value;
    }
    k = count == 0 || b0 < 0 || k0 >= block ? block : static_cast<int32_t>(k0);
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
    int32_t const bStep = static_cast<int32_t>(a.axes.bStep[D].value);
    float sum = 0.F;
    if constexpr (D == S - 1)
    {
        // Last axis: four loads issued before their sum, so several are in flight per thread; the
        // source steps by a constant pointer delta.
        constexpr int kChunk = 4;
        int64_t const delta = int64_t{kStep} * a.columns - bStep;
        T const* at = cols + (kOff * block[D] + k0[D]) * a.columns + lOff * count[D] + b0[D];
        for (int64_t k = k0[D], b = b0[D]; k < block[D] && b >= 0;
             k += kChunk * kStep, b -= kChunk * bStep, at += kChunk * delta)
        {
            float v[kChunk];
#pragma unroll
            for (int j = 0; j < kChunk; ++j)
            {
                v[j] = k + j * kStep < block[D] && b - j * bStep >= 0 ? toFloat(at[j * delta]) : 0.F;
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

//! Plane and padded spatial coordinates of output element i.
template <int S, class I>
__device__ __forceinline__ I coordinates(I i, Col2ImArgs<S> const& a, int32_t (&pos)[S])
{
    I plane;
    if constexpr (sizeof(I) == 4)
    {
        plane = quotient(i, a.volume);
    }
    else
    {
        plane = i / a.spatialVolume;
    }
    I rest = i - plane * static_cast<I>(a.spatialVolume);
#pragma unroll
    for (int d = S - 1; d > 0; --d)
    {
        I const next = quotient(rest, a.axes.image[d]);
        pos[d] = static_cast<int32_t>(rest - next * a.axes.image[d].value) + a.axes.padBegin[d];
        rest = next;
    }
    pos[0] = static_cast<int32_t>(rest) + a.axes.padBegin[0];
    return plane;
}

//! One thread per output element (grid-stride); I is the index type of the flat output index.
//! Six blocks per SM for 1-D and 2-D (40 registers, no spills); more axes need more registers.
template <int S, class T, class I>
__global__ void __launch_bounds__(kBlockThreads, S <= 2 ? 6 : 1) col2imGather(
    T const* __restrict__ input, int64_t const* __restrict__ blockShape, T* __restrict__ output, Col2ImArgs<S> a)
{
    int32_t block[S];
    int32_t count[S];
    bool const ok = loadBlocks(blockShape, a, block, count);
    I const total = static_cast<I>(a.total);
    I const step = static_cast<I>(gridDim.x) * blockDim.x;
    for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step)
    {
        int32_t pos[S];
        I const plane = coordinates(i, a, pos);
        int32_t k0[S];
        int32_t b0[S];
#pragma unroll
        for (int d = 0; d < S; ++d)
        {
            firstSource(a.axes, d, pos[d], block[d], count[d], k0[d], b0[d]);
        }
        T const* cols = input + static_cast<int64_t>(plane) * a.planeElements;
        float const sum = ok ? gatherAxes<0, S>(cols, a, k0, b0, block, count, 0, 0) : NAN;
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
        int64_t const common = std::gcd(g.dilations[d], g.strides[d]);
        a.axes.image[d] = Divisor::of(static_cast<uint32_t>(g.image[d] > 0 ? g.image[d] : 1));
        a.axes.stride[d] = Divisor::of(static_cast<uint32_t>(g.strides[d]));
        a.axes.bStep[d] = Divisor::of(static_cast<uint32_t>(g.dilations[d] / common));
        a.axes.dilation[d] = static_cast<int32_t>(g.dilations[d]);
        a.axes.padBegin[d] = static_cast<int32_t>(g.padBegin[d]);
        a.axes.padEnd[d] = static_cast<int32_t>(g.padEnd[d]);
        a.axes.kStep[d] = static_cast<int32_t>(g.strides[d] / common);
        a.axes.dilationQuot[d] = static_cast<int32_t>(g.dilations[d] / g.strides[d]);
        a.axes.dilationRem[d] = static_cast<int32_t>(g.dilations[d] % g.strides[d]);
    }
    a.spatialVolume = total / (g.batch * g.channels);
    a.volume = Divisor::of(static_cast<uint32_t>(std::min<int64_t>(a.spatialVolume, UINT32_MAX)));
    a.kernel = g.kernel;
    a.columns = g.columns;
    a.planeElements = g.kernel * g.columns;
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
    return forFloatOrBf16Type(
        dtype, [&](auto zero) { return launchSpatial<decltype(zero)>(input, blockShape, output, g, total, stream); });
}

} // namespace trtplug
