// The rotary kernel behind launchRotary (plugins/common/rotary.h): one thread per group of kVec
// rotary pairs or kVec copied dims of one (batch, head, token) row, math in float32. kVec > 1
// moves each group as aligned vectors (allowsGroups checks pointers and strides allow it), so
// the memory-bound pass reads and writes whole 16-byte words. A unit's logic is host-callable
// too (tests/rotary_emulation.cu runs every unit on the CPU). Included only from .cu files.
#pragma once

#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "common/rotary.h"

#include <cstdint>
#include <limits>

namespace trtplug
{
namespace rotary_detail
{

//! One launch's problem in the kernel's terms: row geometry and per-row work units, with the
//! dividers of the (row, unit) index (32-bit multiply-high ones when the work fits).
template <bool kWide>
struct RotaryGrid
{
    using Index = typename IndexMath<kWide>::Index;
    using Divmod = typename IndexMath<kWide>::Divmod;
    Index work{0};            //!< batch * heads * seqLen * unitsPerRow
    Divmod units;             //!< units per row: rotary groups, then copy groups
    Divmod inner;             //!< extent of the fastest-varying row axis (heads or seqLen)
    Divmod middle;            //!< extent of the other one
    int32_t rotaryUnits{0};   //!< (rotaryDim / 2) / kVec
    bool headsInner{false};   //!< rows run (b, s, n): heads adjacent in memory (BSNH, packed)
};

template <typename T, int kVec>
__host__ __device__ __forceinline__ void loadVec(T const* p, float (&dst)[kVec])
{
    Vec<T, kVec> const v = *reinterpret_cast<Vec<T, kVec> const*>(p);
#pragma unroll
    for (int i = 0; i < kVec; ++i)
    {
        dst[i] = toFloat(v.v[i]);
    }
}

template <typename T, int kVec>
__host__ __device__ __forceinline__ void storeVec(T* p, float const (&src)[kVec])
{
    Vec<T, kVec> v;
#pragma unroll
    for (int i = 0; i < kVec; ++i)
    {
        v.v[i] = fromFloat<T>(src[i]);
    }
    *reinterpret_cast<Vec<T, kVec>*>(p) = v;
}

//! Position of token s of batch b in stream `stream` (M-RoPE; 0 otherwise), or -1 when it is
//! outside the cache.
__host__ __device__ __forceinline__ int64_t streamRow(RotaryProblem const& p, int64_t b, int64_t s, int stream)
{
    int64_t pos = 0;
    if (p.positionIds != nullptr && p.positionOffset)
    {
        pos = p.positionIds[0] + s;
    }
    else if (p.positionIds != nullptr)
    {
        pos = p.positionIds[stream * p.posStreamStride + b * p.posBatchStride + s * p.posSeqStride];
    }
    else
    {
        pos = (p.posStart != nullptr ? int64_t{p.posStart[b]} : 0) + s;
    }
    return pos >= 0 && pos < p.maxPosition ? pos : -1;
}

//! Rows of cos/sin for token s of batch b: one per position stream (all three the same row
//! unless M-RoPE); rows[0] is -1 when the token is left unrotated (a position outside the cache).
struct CacheRows
{
    int64_t rows[3];
};

__host__ __device__ __forceinline__ CacheRows cacheRows(RotaryProblem const& p, int64_t b, int64_t s)
{
    if (p.cachePerToken)
    {
        int64_t const row = (p.cacheSharedByBatch ? 0 : b * p.seqLen) + s;
        return {{row, row, row}};
    }
    int64_t const t = streamRow(p, b, s, 0);
    if (!p.mrope)
    {
        return {{t, t, t}};
    }
    int64_t const h = streamRow(p, b, s, 1);
    int64_t const w = streamRow(p, b, s, 2);
    return {{t < 0 || h < 0 || w < 0 ? -1 : t, h, w}};
}

//! cos and sin of kVec columns from `pair` on, from one cache row.
template <typename T, int kVec>
__host__ __device__ __forceinline__ void loadCacheRow(
    RotaryProblem const& p, int64_t row, int32_t pair, float (&c)[kVec], float (&s)[kVec])
{
    int64_t const at = row * (p.rotaryDim / 2) + pair;
    loadVec<T, kVec>(static_cast<T const*>(p.cosCache) + at, c);
    loadVec<T, kVec>(static_cast<T const*>(p.sinCache) + at, s);
}

//! M-RoPE's cos and sin of kVec columns from `pair` on, each column from its stream's row: a group
//! inside one section (chunked layout) reads that row's vectors; otherwise the vectors of all three
//! rows are read and each column picks its own (6 vector loads instead of 2 kVec scalar ones:
//! the interleaved layout changes stream every column).
template <typename T, int kVec>
__host__ __device__ __forceinline__ void loadMropeCache(
    RotaryProblem const& p, CacheRows const& r, int32_t pair, float (&c)[kVec], float (&s)[kVec])
{
    int32_t const first = mropeStream(p, pair);
    if (!p.mropeInterleaved && first == mropeStream(p, pair + kVec - 1))
    {
        loadCacheRow<T, kVec>(p, r.rows[first], pair, c, s);
        return;
    }
    float cs[3][kVec];
    float ss[3][kVec];
#pragma unroll
    for (int stream = 0; stream < 3; ++stream)
    {
        loadCacheRow<T, kVec>(p, r.rows[stream], pair, cs[stream], ss[stream]);
    }
#pragma unroll
    for (int i = 0; i < kVec; ++i)
    {
        int32_t const stream = mropeStream(p, pair + i); // selects, not an indexed (local) array
        c[i] = stream == 0 ? cs[0][i] : stream == 1 ? cs[1][i] : cs[2][i];
        s[i] = stream == 0 ? ss[0][i] : stream == 1 ? ss[1][i] : ss[2][i];
    }
}

//! cos and sin of kVec cache columns from `pair` on: one vector of a row, or (M-RoPE) each
//! column from its stream's row; times cacheScale.
template <typename T, int kVec>
__host__ __device__ __forceinline__ void loadCache(
    RotaryProblem const& p, CacheRows const& r, int32_t pair, float (&c)[kVec], float (&s)[kVec])
{
    if (!p.mrope)
    {
        loadCacheRow<T, kVec>(p, r.rows[0], pair, c, s);
    }
    else if (kVec == 1)
    {
        loadCacheRow<T, kVec>(p, r.rows[mropeStream(p, pair)], pair, c, s);
    }
    else
    {
        loadMropeCache<T, kVec>(p, r, pair, c, s);
    }
    if (p.cacheScale != 1.F)
    {
#pragma unroll
        for (int i = 0; i < kVec; ++i)
        {
            c[i] *= p.cacheScale;
            s[i] *= p.cacheScale;
        }
    }
}

//! The two groups of kVec values (as float) that the kVec pairs from pair index `pair` of one row
//! rotate together: pairs are (2i, 2i+1) interleaved, else (i, i + half).
template <int kVec>
struct PairGroups
{
    float a[kVec];
    float b[kVec];
};

__host__ __device__ __forceinline__ int32_t firstOfPairs(RotaryProblem const& p, int32_t pair)
{
    return p.interleaved ? 2 * pair : pair;
}

template <int kVec>
__host__ __device__ __forceinline__ int32_t secondOfPairs(RotaryProblem const& p, int32_t pair)
{
    return p.interleaved ? 2 * pair + kVec : pair + p.rotaryDim / 2;
}

template <typename T, int kVec>
__host__ __device__ __forceinline__ PairGroups<kVec> loadPairs(RotaryProblem const& p, T const* x, int32_t pair)
{
    PairGroups<kVec> g;
    loadVec<T, kVec>(x + firstOfPairs(p, pair), g.a);
    loadVec<T, kVec>(x + secondOfPairs<kVec>(p, pair), g.b);
    return g;
}

//! Rotates loaded groups g by the cache values c, s (or copies them when !rotate) into row y.
template <typename T, int kVec>
__host__ __device__ __forceinline__ void rotateStorePairs(RotaryProblem const& p, T* y, int32_t pair, bool rotate,
    float const (&c)[kVec], float const (&s)[kVec], PairGroups<kVec> g)
{
    float(&a)[kVec] = g.a;
    float(&b)[kVec] = g.b;
    if (rotate)
    {
        if (p.interleaved && kVec == 1)
        {
            float const even = a[0];
            a[0] = even * c[0] - b[0] * s[0];
            b[0] = b[0] * c[0] + even * s[0];
        }
        else if (p.interleaved)
        {
            // a, b hold 2 * kVec consecutive dims: pairs (a0, a1), (a2, a3), ... then b's.
            float out[2 * kVec];
#pragma unroll
            for (int i = 0; i < kVec; ++i)
            {
                int const lo = 2 * i < kVec ? 2 * i : 2 * i - kVec;
                float const even = 2 * i < kVec ? a[lo] : b[lo];
                float const odd = 2 * i < kVec ? a[lo + 1] : b[lo + 1];
                out[2 * i] = even * c[i] - odd * s[i];
                out[2 * i + 1] = odd * c[i] + even * s[i];
            }
#pragma unroll
            for (int i = 0; i < kVec; ++i)
            {
                a[i] = out[i];
                b[i] = out[kVec + i];
            }
        }
        else
        {
#pragma unroll
            for (int i = 0; i < kVec; ++i)
            {
                float const lo = a[i];
                a[i] = lo * c[i] - b[i] * s[i];
                b[i] = b[i] * c[i] + lo * s[i];
            }
        }
    }
    storeVec<T, kVec>(y + firstOfPairs(p, pair), a);
    storeVec<T, kVec>(y + secondOfPairs<kVec>(p, pair), b);
}

//! Rotates kVec pairs starting at pair index `pair` of one row (x -> y) by the cache values c, s,
//! or copies them when !rotate. Reads all it writes first, so y may alias x.
template <typename T, int kVec>
__host__ __device__ __forceinline__ void rotatePairs(RotaryProblem const& p, T const* x, T* y, int32_t pair,
    bool rotate, float const (&c)[kVec], float const (&s)[kVec])
{
    rotateStorePairs<T, kVec>(p, y, pair, rotate, c, s, loadPairs<T, kVec>(p, x, pair));
}

//! rotatePairs with the cache values of `rows` (rows[0] -1: copied).
template <typename T, int kVec>
__host__ __device__ __forceinline__ void rotateGroup(
    RotaryProblem const& p, T const* x, T* y, CacheRows const& rows, int32_t pair)
{
    float c[kVec] = {};
    float s[kVec] = {};
    bool const rotate = rows.rows[0] >= 0;
    if (rotate)
    {
        loadCache<T, kVec>(p, rows, pair, c, s);
    }
    rotatePairs<T, kVec>(p, x, y, pair, rotate, c, s);
}

//! Work unit i of the launch: (row, unit) from i, then a rotary group or a group of kVec dims
//! past rotaryDim copied unchanged. Each unit reads all it writes first, so out may alias in.
template <typename T, int kVec, bool kWide>
__host__ __device__ __forceinline__ void rotaryUnit(
    RotaryProblem const& p, RotaryGrid<kWide> const& g, typename RotaryGrid<kWide>::Index i)
{
    using Index = typename RotaryGrid<kWide>::Index;
    Index const r = g.units.div(i);
    auto const unit = static_cast<int32_t>(i - r * g.units.divisor);
    Index const rest = g.inner.div(r);
    Index const middle = g.middle.mod(rest);
    auto const b = static_cast<int64_t>(g.middle.div(rest));
    auto const n = static_cast<int64_t>(g.headsInner ? r - rest * g.inner.divisor : middle);
    auto const s = static_cast<int64_t>(g.headsInner ? middle : r - rest * g.inner.divisor);
    T const* x
        = static_cast<T const*>(p.in.data) + b * p.in.batchStride + n * p.in.headStride + s * p.in.seqStride;
    T* y = static_cast<T*>(p.out.data) + b * p.out.batchStride + n * p.out.headStride + s * p.out.seqStride;
    if (unit < g.rotaryUnits)
    {
        rotateGroup<T, kVec>(p, x, y, cacheRows(p, b, s), unit * kVec);
    }
    else
    {
        int32_t const d = p.rotaryDim + (unit - g.rotaryUnits) * kVec;
        *reinterpret_cast<Vec<T, kVec>*>(y + d) = *reinterpret_cast<Vec<T, kVec> const*>(x + d);
    }
}

//! Grid-stride over the launch's (row, unit) work.
template <typename T, int kVec, bool kWide>
__global__ void rotaryKernel(RotaryProblem const p, RotaryGrid<kWide> const g)
{
    using Index = typename RotaryGrid<kWide>::Index;
    for (Index i = blockIdx.x * Index{blockDim.x} + threadIdx.x; i < g.work; i += Index{gridDim.x} * blockDim.x)
    {
        rotaryUnit<T, kVec, kWide>(p, g, i);
    }
}

inline int64_t rowCount(RotaryProblem const& p) noexcept
{
    return int64_t{p.batch} * p.heads * p.seqLen;
}

inline bool inPlace(RotaryProblem const& p) noexcept
{
    return p.out.data == p.in.data && p.out.batchStride == p.in.batchStride && p.out.headStride == p.in.headStride
        && p.out.seqStride == p.in.seqStride;
}

//! Work units of one row: groups of kVec rotary pairs, then (not in place) groups of kVec copied dims.
inline int64_t unitsPerRow(RotaryProblem const& p, int kVec) noexcept
{
    return p.rotaryDim / 2 / kVec + (inPlace(p) ? 0 : (p.headDim - p.rotaryDim) / kVec);
}

//! True when kVec-element groups start at kVec-aligned addresses in every row of every tensor.
inline bool allowsGroups(RotaryProblem const& p, int kVec) noexcept
{
    size_t const bytes = dtypeSize(p.dtype) * kVec;
    auto const divides = [kVec](int64_t v) { return v % kVec == 0; };
    return divides(p.rotaryDim / 2) && divides(p.headDim) && divides(p.in.batchStride) && divides(p.in.headStride)
        && divides(p.in.seqStride) && divides(p.out.batchStride) && divides(p.out.headStride)
        && divides(p.out.seqStride) && isAligned(p.in.data, bytes) && isAligned(p.out.data, bytes)
        && isAligned(p.cosCache, bytes) && isAligned(p.sinCache, bytes);
}

//! Whether the launch's unit indices (plus a grid's overshoot) pass 32 bits.
inline bool needsWideIndex(RotaryProblem const& p, int kVec, int64_t threads) noexcept
{
    return rowCount(p) * unitsPerRow(p, kVec) + threads > std::numeric_limits<int32_t>::max();
}

//! The kernel's grid: rows ordered as memory runs (heads innermost when a token's heads sit
//! closer than its successor), their units, the dividers. Needs rowCount(p) * units > 0.
template <int kVec, bool kWide>
RotaryGrid<kWide> rotaryGrid(RotaryProblem const& p) noexcept
{
    using Divmod = typename RotaryGrid<kWide>::Divmod;
    auto const units = static_cast<int32_t>(unitsPerRow(p, kVec));
    RotaryGrid<kWide> g;
    g.headsInner = p.in.headStride <= p.in.seqStride;
    g.work = static_cast<typename RotaryGrid<kWide>::Index>(rowCount(p) * units);
    g.units = Divmod(units);
    g.inner = Divmod(g.headsInner ? p.heads : p.seqLen);
    g.middle = Divmod(g.headsInner ? p.seqLen : p.heads);
    g.rotaryUnits = p.rotaryDim / 2 / kVec;
    return g;
}

} // namespace rotary_detail
} // namespace trtplug
