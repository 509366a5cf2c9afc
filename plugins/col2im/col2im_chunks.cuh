// Col2Im as chunks of the output's last axis. With stride 1 on that axis (the common case, and the
// benchmark's) a thread sums V adjacent outputs of one image row (16 bytes: 4 fp32 or 8 fp16/bf16)
// and stores them as one vector: the chunk's sources for one kernel offset are V adjacent input
// elements, read as the one or two aligned 16-byte vectors that hold them (col2im_window.cuh), so
// a warp moves 512 contiguous bytes a load and a thread has the loads of four kernel offsets in
// flight at once. Other strides take one output a thread (V = 1), each walking its own sources.
// The first kernel (one output a thread, 2- or 4-byte loads, a dependent round trip per kernel
// row) ran at 67% of copy in fp32 and 35% in fp16/bf16 on the H100: bound by bytes in flight, the
// same element rate for both. Host-callable for tests/col2im_emulation.cu.
//
// Order of the float32 sum of one output (the emulation's reference keeps it): axes outer to inner,
// each axis' kernel offsets ascending; the outer axes add one inner sum at a time; the last axis
// adds groups ((v0 + v1) + (v2 + v3)) of the output's progression k = r, r + kStep, ... (r < kStep),
// group g holding the members with index k / kStep in [4g, 4g + 4), absent ones zero. That is the
// first kernel's order wherever the first source has index 0, i.e. all outputs but some next to an
// end padding (whose nearest block positions lie past the last); there the last bit may differ.
#pragma once

#include "col2im/col2im.h"
#include "col2im/col2im_window.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"

#include <cmath>
#include <numeric>

namespace trtplug
{

//! Per-axis geometry in 32 bits (launchCol2Im checks the ranges). The kernel offsets k that reach
//! a padded coordinate come every kStep = stride / g, their block positions every bStep = dilation
//! / g (g = gcd(dilation, stride)).
template <int S>
struct Col2ImAxes
{
    FastDivmod stride[S];
    FastDivmod bStep[S];
    int32_t image[S];
    int32_t dilation[S];
    int32_t padBegin[S];
    int32_t padEnd[S];
    int32_t kStep[S];
    int32_t dilationQuot[S]; //!< dilation / stride
    int32_t dilationRem[S];  //!< dilation % stride
};

//! A launch: chunks of V outputs along the last axis, row by row; 32- or 64-bit flat indices.
template <int S, bool kWide>
struct Col2ImChunks
{
    using Index = typename IndexMath<kWide>::Index;
    using Signed = typename IndexMath<kWide>::Signed;
    using Divmod = typename IndexMath<kWide>::Divmod;

    Col2ImAxes<S> axes;
    Divmod outer[S];     //!< image extents of the axes before the last: a row's coordinates
    Divmod chunksPerRow; //!< ceil(width / V)
    Index chunks;
    Signed width; //!< the last axis' extent
    Signed kernel;
    Signed columns;
    Signed planeElements; //!< kernel * columns: input elements per output plane
    bool vectorLoads;  //!< input 16-byte aligned, V divides its size: windows load as aligned vectors
    bool vectorStores; //!< output 16-byte aligned and V divides width: each chunk is one vector
};

//! The launch of geometry `g` (image extents >= 1) for chunks of `v` outputs.
template <int S, bool kWide>
Col2ImChunks<S, kWide> makeCol2ImChunks(Col2ImGeometry const& g, int v, bool alignedIn, bool alignedOut)
{
    using C = Col2ImChunks<S, kWide>;
    C c{};
    int64_t rows = g.batch * g.channels;
    for (int d = 0; d < S; ++d)
    {
        int64_t const common = std::gcd(g.dilations[d], g.strides[d]);
        c.axes.stride[d] = FastDivmod(static_cast<uint32_t>(g.strides[d]));
        c.axes.bStep[d] = FastDivmod(static_cast<uint32_t>(g.dilations[d] / common));
        c.axes.image[d] = static_cast<int32_t>(g.image[d]);
        c.axes.dilation[d] = static_cast<int32_t>(g.dilations[d]);
        c.axes.padBegin[d] = static_cast<int32_t>(g.padBegin[d]);
        c.axes.padEnd[d] = static_cast<int32_t>(g.padEnd[d]);
        c.axes.kStep[d] = static_cast<int32_t>(g.strides[d] / common);
        c.axes.dilationQuot[d] = static_cast<int32_t>(g.dilations[d] / g.strides[d]);
        c.axes.dilationRem[d] = static_cast<int32_t>(g.dilations[d] % g.strides[d]);
        c.outer[d] = typename C::Divmod(static_cast<typename C::Index>(g.image[d]));
        rows *= d < S - 1 ? g.image[d] : 1;
    }
    int64_t const perRow = (g.image[S - 1] + v - 1) / v;
    c.chunksPerRow = typename C::Divmod(static_cast<typename C::Index>(perRow));
    c.chunks = static_cast<typename C::Index>(rows * perRow);
    c.width = static_cast<typename C::Signed>(g.image[S - 1]);
    c.kernel = static_cast<typename C::Signed>(g.kernel);
    c.columns = static_cast<typename C::Signed>(g.columns);
    c.planeElements = static_cast<typename C::Signed>(g.kernel * g.columns);
    c.vectorLoads = alignedIn && g.batch * g.channels * g.kernel * g.columns % v == 0;
    c.vectorStores = alignedOut && g.image[S - 1] % v == 0;
    return c;
}

__host__ __device__ __forceinline__ int32_t lesser(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

//! The first (smallest) kernel offset k along axis d that reaches padded coordinate p from a block
//! position b < count, and that b; k >= block when there is none. Later ones: k + kStep, b - bStep.
//! No division but two by constants: p = b * stride + k * dilation is solved by stepping k.
template <int S>
__host__ __device__ __forceinline__ void firstSource(
    Col2ImAxes<S> const& axes, int d, int32_t p, int32_t block, int32_t count, int32_t& k, int32_t& b)
{
    int64_t k0 = 0;
    int64_t b0 = p;
    if (axes.stride[d].divisor != 1)
    {
        // Remainder r and quotient q of p - k * dilation by the stride, for k = 0, 1, ... < kStep.
        auto const s = static_cast<int32_t>(axes.stride[d].divisor);
        auto q = static_cast<int32_t>(axes.stride[d].div(static_cast<uint32_t>(p)));
        int32_t r = p - q * s;
        int32_t const tries = lesser(block, axes.kStep[d]);
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
        int64_t const skip = axes.bStep[d].div(static_cast<uint32_t>(b0 - count)) + 1;
        k0 += skip * axes.kStep[d];
        b0 -= skip * axes.bStep[d].divisor;
    }
    k = count == 0 || b0 < 0 || k0 >= block ? block : static_cast<int32_t>(k0);
    b = static_cast<int32_t>(b0);
}

//! The chunk's outputs on the last axis and where their sources start.
template <int V>
struct LastAxis
{
    int32_t p0;     //!< padded coordinate of the first output
    int32_t n;      //!< outputs in the chunk (fewer than V at the end of a row)
    int32_t kBegin; //!< stride 1: first group's kernel offset, a multiple of four
    int32_t kEnd;   //!< stride 1: last kernel offset that reaches an output (< kBegin: none)
    int32_t k[V];   //!< other strides: each output's first source (firstSource)
    int32_t b[V];
};

//! kUnit: the last axis has stride 1 (launchCol2Im picks the kernel).
template <int S, int V, bool kUnit>
__host__ __device__ __forceinline__ LastAxis<V> lastAxis(
    Col2ImAxes<S> const& axes, int32_t x0, int32_t n, int32_t block, int32_t count)
{
    constexpr int D = S - 1;
    LastAxis<V> a{};
    a.p0 = x0 + axes.padBegin[D];
    a.n = n;
    if constexpr (kUnit)
    {
        // k reaches p where 0 <= p - k * dilation < count (bStep is the dilation here).
        int32_t const first = a.p0 < count ? 0 : static_cast<int32_t>(axes.bStep[D].div(a.p0 - count)) + 1;
        int32_t const pLast = a.p0 + n - 1;
        a.kBegin = first & ~3;
        a.kEnd = count == 0 ? -1 : lesser(block - 1, static_cast<int32_t>(axes.bStep[D].div(pLast)));
        return a;
    }
    else
    {
#pragma unroll
        for (int j = 0; j < V; ++j)
        {
            firstSource(axes, D, a.p0 + lesser(j, n - 1), block, count, a.k[j], a.b[j]);
        }
        return a;
    }
}

//! Other strides on the last axis: each output walks its own progression of kernel offsets, in
//! groups of four aligned to k / kStep (see the order above). `row`: the flat index of kernel
//! offset 0, block position 0 of this row of kernel and block positions.
template <class T, int V, class Signed>
__host__ __device__ __forceinline__ void sumEach(T const* __restrict__ x, Signed row, LastAxis<V> const& a,
    int32_t block, int32_t kStep, int32_t bStep, Signed columns, float (&sum)[V])
{
    int64_t const delta = int64_t{kStep} * columns - bStep;
#pragma unroll
    for (int j = 0; j < V; ++j)
    {
        float s = 0.F;
        int32_t const first = a.k[j];
        if (j < a.n && first < block)
        {
            int32_t const skip = first < kStep ? 0 : first / kStep % 4;
            int64_t k = first - int64_t{skip} * kStep;
            int64_t b = a.b[j] + int64_t{skip} * bStep;
            T const* at = x + (row + k * columns + b);
            for (; k < block && b >= 0; k += int64_t{4} * kStep, b -= int64_t{4} * bStep, at += 4 * delta)
            {
                float v[4];
#pragma unroll
                for (int u = 0; u < 4; ++u)
                {
                    int64_t const ku = k + int64_t{u} * kStep;
                    bool const in = ku >= first && ku < block && b - int64_t{u} * bStep >= 0;
                    v[u] = in ? toFloat(at[u * delta]) : 0.F;
                }
                s += (v[0] + v[1]) + (v[2] + v[3]);
            }
        }
        sum[j] = s;
    }
}

//! Sums over the kernel offsets of axes D.. of the chunk's outputs, whose first sources on the
//! outer axes are (k0, b0); kOff and lOff: the kernel and block rows of the axes before D.
template <int D, bool kUnit, class T, int V, int S, bool kWide>
__host__ __device__ __forceinline__ void gatherRows(T const* __restrict__ x, Col2ImChunks<S, kWide> const& g,
    LastAxis<V> const& a, int32_t const (&k0)[S], int32_t const (&b0)[S], int32_t const (&block)[S],
    int32_t const (&count)[S], typename Col2ImChunks<S, kWide>::Signed kOff,
    typename Col2ImChunks<S, kWide>::Signed lOff, typename Col2ImChunks<S, kWide>::Signed base, float (&sum)[V])
{
    using Signed = typename Col2ImChunks<S, kWide>::Signed;
    if constexpr (D == S - 1)
    {
        Signed const row = base + kOff * block[D] * g.columns + lOff * count[D];
        if constexpr (kUnit)
        {
            int32_t const dilation = g.axes.dilation[D];
            if (g.vectorLoads)
            {
                sumWindows<true, T>(x, row, a.p0, a.n, a.kBegin, a.kEnd, dilation, count[D], g.columns, sum);
            }
            else
            {
                sumWindows<false, T>(x, row, a.p0, a.n, a.kBegin, a.kEnd, dilation, count[D], g.columns, sum);
            }
        }
        else
        {
            auto const bStep = static_cast<int32_t>(g.axes.bStep[D].divisor);
            sumEach<T, V>(x, row, a, block[D], g.axes.kStep[D], bStep, g.columns, sum);
        }
    }
    else
    {
#pragma unroll
        for (int j = 0; j < V; ++j)
        {
            sum[j] = 0.F;
        }
        int32_t const kStep = g.axes.kStep[D];
        int32_t const bStep = static_cast<int32_t>(g.axes.bStep[D].divisor);
        for (int64_t k = k0[D], b = b0[D]; k < block[D] && b >= 0; k += kStep, b -= bStep)
        {
            float inner[V];
            gatherRows<D + 1, kUnit, T, V>(x, g, a, k0, b0, block, count, kOff * block[D] + static_cast<Signed>(k),
                lOff * count[D] + static_cast<Signed>(b), base, inner);
#pragma unroll
            for (int j = 0; j < V; ++j)
            {
                sum[j] += inner[j];
            }
        }
    }
}

//! Output chunk `chunk`: up to V outputs of one row, summed (NaN when !ok: the device block shape
//! disagrees with the launch) and stored, as one vector when vectorStores. kUnit: stride 1 on the
//! last axis (sumWindows), else sumEach.
template <class T, int V, bool kUnit, int S, bool kWide>
__host__ __device__ __forceinline__ void col2imChunk(T const* __restrict__ x, T* __restrict__ y,
    Col2ImChunks<S, kWide> const& g, int32_t const (&block)[S], int32_t const (&count)[S], bool ok,
    typename Col2ImChunks<S, kWide>::Index chunk)
{
    using Signed = typename Col2ImChunks<S, kWide>::Signed;
    auto rest = g.chunksPerRow.div(chunk);
    Signed const rowIndex = static_cast<Signed>(rest);
    auto const x0 = static_cast<int32_t>(chunk - rest * g.chunksPerRow.divisor) * V;
    int32_t k0[S];
    int32_t b0[S];
#pragma unroll
    for (int d = S - 2; d >= 0; --d)
    {
        auto const next = g.outer[d].div(rest);
        auto const p = static_cast<int32_t>(rest - next * g.outer[d].divisor) + g.axes.padBegin[d];
        firstSource(g.axes, d, p, block[d], count[d], k0[d], b0[d]);
        rest = next;
    }
    int32_t const n = lesser(V, static_cast<int32_t>(g.width - x0));
    float sum[V];
    if (ok)
    {
        LastAxis<V> const a = lastAxis<S, V, kUnit>(g.axes, x0, n, block[S - 1], count[S - 1]);
        Signed const base = static_cast<Signed>(rest) * g.planeElements;
        gatherRows<0, kUnit, T, V>(x, g, a, k0, b0, block, count, 0, 0, base, sum);
    }
    else
    {
#pragma unroll
        for (int j = 0; j < V; ++j)
        {
            sum[j] = NAN;
        }
    }
    T* out = y + (rowIndex * g.width + x0);
    Vec<T, V> vec;
#pragma unroll
    for (int j = 0; j < V; ++j)
    {
        vec.v[j] = fromFloat<T>(sum[j]);
    }
    if (g.vectorStores)
    {
        *reinterpret_cast<Vec<T, V>*>(out) = vec;
        return;
    }
#pragma unroll
    for (int j = 0; j < V; ++j)
    {
        if (j < n)
        {
            out[j] = vec.v[j];
        }
    }
}

} // namespace trtplug
