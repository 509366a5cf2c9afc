// MaxUnpool's per-thread work, host-callable for tests/max_unpool_emulation.cu: the scatter's
// destination, and the window path, where y splits into the disjoint windows of x's elements (each
// inferred length a multiple of x's, out == inferred) and every element of y is written once.
// The kernels and their launches are in max_unpool.cu.
#pragma once

#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "max_unpool/max_unpool.h"

#include <climits>
#include <cstdint>

namespace trtplug
{
namespace unpool
{

// ---- General path: zero y, then scatter each x element to its index (any shapes, 64-bit). ----

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

//! The geometry of launchMaxUnpool's arguments; false when they disagree (x's volume is not
//! count) or the inferred tensor does not fit at the output's start.
inline bool unpoolDims(int64_t count, int64_t planes, int32_t spatialRank, int64_t const* in, int64_t const* inferred,
    int64_t const* out, UnpoolDims& g)
{
    g = UnpoolDims{spatialRank, {}, {}, 1, 1, 0, true};
    int64_t xVolume = planes;
    for (int32_t d = 0; d < spatialRank; ++d)
    {
        if (in[d] < 0 || inferred[d] < 0 || out[d] < inferred[d])
        {
            return false;
        }
        g.inferred[d] = inferred[d];
        g.out[d] = out[d];
        g.inferredVolume *= inferred[d];
        g.outVolume *= out[d];
        g.same = g.same && inferred[d] == out[d];
        xVolume *= in[d];
    }
    g.inferredTotal = planes * g.inferredVolume;
    return xVolume == count;
}

//! Offset in y of flat index idx of the inferred tensor; -1 when idx is not a position of it.
__host__ __device__ __forceinline__ int64_t scatterTarget(UnpoolDims const& g, int64_t idx)
{
    if (idx < 0 || idx >= g.inferredTotal)
    {
        return -1;
    }
    if (g.same)
    {
        return idx;
    }
    int64_t rest = idx % g.inferredVolume;
    int64_t offset = 0;
    int64_t outStride = 1;
    for (int32_t d = g.spatial - 1; d >= 0; --d)
    {
        offset += (rest % g.inferred[d]) * outStride;
        rest /= g.inferred[d];
        outStride *= g.out[d];
    }
    return (idx / g.inferredVolume) * g.outVolume + offset;
}

// ---- Window path ----

//! x element i of (planes, in...) owns the window of y at in-coordinates * ratio, ratio long.
template <int S>
struct WindowArgs
{
    FastDivmod in[S];    //!< x's spatial lengths
    uint32_t ratio[S];   //!< window length per axis: inferred / in
    uint32_t yStride[S]; //!< row-major strides of a y plane
    uint32_t yPlane;     //!< elements of one y plane
    uint32_t yTotal;     //!< elements of y
    uint32_t count;      //!< elements of x
    int32_t* pending;    //!< set when some index points outside its own window
};

//! The window arguments when the window path applies (see launchMaxUnpool), else false.
template <int S>
bool windowArgs(
    int64_t count, int64_t planes, int64_t const* in, UnpoolDims const& g, void* workspace, WindowArgs<S>& a)
{
    int64_t stride = 1;
    for (int32_t d = S - 1; d >= 0; --d)
    {
        if (in[d] <= 0 || !g.same || g.inferred[d] % in[d] != 0)
        {
            return false;
        }
        a.in[d] = FastDivmod(static_cast<uint32_t>(in[d]));
        a.ratio[d] = static_cast<uint32_t>(g.inferred[d] / in[d]);
        a.yStride[d] = static_cast<uint32_t>(stride);
        stride *= g.inferred[d];
    }
    if (workspace == nullptr || planes * g.inferredVolume >= INT32_MAX || count >= INT32_MAX)
    {
        return false;
    }
    a.yPlane = static_cast<uint32_t>(g.inferredVolume);
    a.yTotal = static_cast<uint32_t>(planes * g.inferredVolume);
    a.count = static_cast<uint32_t>(count);
    a.pending = static_cast<int32_t*>(workspace);
    return true;
}

//! Offset in y of the first element of x element i's window.
template <int S>
__host__ __device__ __forceinline__ uint32_t windowBase(WindowArgs<S> const& a, uint32_t i)
{
    uint32_t rest = i;
    uint32_t base = 0;
#pragma unroll
    for (int d = S - 1; d >= 0; --d)
    {
        uint32_t const q = a.in[d].div(rest);
        base += (rest - q * a.in[d].divisor) * a.ratio[d] * a.yStride[d];
        rest = q;
    }
    return base + rest * a.yPlane;
}

//! f(offset of a window row) for each run of the innermost axis, outer axes in row-major order.
template <int D, int S, class F>
__host__ __device__ __forceinline__ void forEachRow(WindowArgs<S> const& a, uint32_t offset, F& f)
{
    if constexpr (D == S - 1)
    {
        f(offset);
    }
    else
    {
#pragma unroll 1 // one row body per call: the pair kernels inline 8 or 14 groups of them
        for (uint32_t k = 0; k < a.ratio[D]; ++k)
        {
            forEachRow<D + 1, S>(a, offset + k * a.yStride[D], f);
        }
    }
}

//! Raises pass 2 when a valid index was not in its own window.
template <int S>
__host__ __device__ __forceinline__ void flagStray(WindowArgs<S> const& a, bool found, int64_t idx)
{
    if (!found && idx >= 0 && idx < int64_t{a.yTotal})
    {
        *a.pending = 1; // benign race: every writer stores 1
    }
}

// Pass 1, one x element per thread: element i writes its whole window, V elements per store: its
// value where its index points, zeros elsewhere.
template <class T, int S, int V>
__host__ __device__ __forceinline__ void writeWindow(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> const& a, uint32_t i)
{
    int64_t const idx = indices[i];
    T const v = x[i];
    T const zero = fromFloat<T>(0.0F);
    bool found = false;
    auto writeRow = [&](uint32_t row) {
        for (uint32_t k = 0; k < a.ratio[S - 1]; k += V)
        {
            Vec<T, V> out;
#pragma unroll
            for (int j = 0; j < V; ++j)
            {
                bool const hit = idx == int64_t{row + k + j};
                out.v[j] = hit ? v : zero;
                found = found || hit;
            }
            *reinterpret_cast<Vec<T, V>*>(y + row + k) = out;
        }
    };
    forEachRow<0, S>(a, windowBase(a, i), writeRow);
    flagStray(a, found, idx);
}

// Pass 1 for the commonest shape, windows 2 long on the innermost axis (kernel = stride = 2):
// groups of G consecutive x elements, their windows adjacent in each row, 2 * G elements = 16
// bytes of y, one vector store per row. The lanes of a warp take consecutive groups, so each store
// instruction writes 512 contiguous bytes: whole 32-byte sectors. (fp32 used groups of 4, two 16-
// byte stores a row, so that each instruction wrote half of every sector it touched: 76% of copy
// bandwidth on an H100 where fp16 reached 95%.)
template <class T>
constexpr int kPairGroup = 8 / sizeof(T); //!< x elements per group: 2 fp32, 4 fp16 / bf16
//! Groups per thread, all loaded before the first store so that more bytes are in flight: on the
//! H100 (32x64x256x256 fp32, then in groups of 4) 1.46 ms with 8, 1.52 ms with 4, 1.59 ms with 1.
//! 16-bit: 8 (320 bytes of x and indices); fp32: 14 (336 bytes), the most that fit in 128
//! registers without spills (2 blocks an SM; 16 spilled).
template <class T>
constexpr int kPairDepth = sizeof(T) == 4 ? 14 : 8;

//! Blocks of the pair-group pass 1 for `count` x elements.
template <class T>
unsigned pairBlocks(uint32_t count)
{
    unsigned const perBlock = kBlockThreads * kPairDepth<T> * kPairGroup<T>;
    return (count + perBlock - 1) / perBlock;
}

template <class T, int S>
__host__ __device__ __forceinline__ void writePairGroup(WindowArgs<S> const& a, T* __restrict__ y, uint32_t group,
    Vec<T, kPairGroup<T>> const& v, int64_t const (&idx)[kPairGroup<T>])
{
    constexpr int kGroup = kPairGroup<T>;
    constexpr int kRow = 2 * kGroup; // y elements per window row of the group: 16 bytes
    T const zero = fromFloat<T>(0.0F);
    bool found[kGroup] = {};
    auto writeRow = [&](uint32_t row) {
        Vec<T, kRow> out;
#pragma unroll
        for (int e = 0; e < kRow; ++e)
        {
            bool const hit = idx[e / 2] == int64_t{row + e};
            out.v[e] = hit ? v.v[e / 2] : zero;
            found[e / 2] = found[e / 2] || hit;
        }
        *reinterpret_cast<Vec<T, kRow>*>(y + row) = out;
    };
    forEachRow<0, S>(a, windowBase(a, group * kGroup), writeRow);
#pragma unroll
    for (int g = 0; g < kGroup; ++g)
    {
        flagStray(a, found[g], idx[g]);
    }
}

//! Thread `first` of `threads` handles groups first, first + threads, ...: each load and store of
//! a warp is contiguous. threads is about groups / depth: no uint32 overflow below.
template <class T, int S>
__host__ __device__ __forceinline__ void writePairGroups(T const* __restrict__ x, int64_t const* __restrict__ indices,
    T* __restrict__ y, WindowArgs<S> const& a, uint32_t first, uint32_t threads)
{
    constexpr int kGroup = kPairGroup<T>;
    constexpr int kDepth = kPairDepth<T>;
    uint32_t const groups = a.count / kGroup;
    Vec<T, kGroup> v[kDepth];
    int64_t idx[kDepth][kGroup];
#pragma unroll
    for (int d = 0; d < kDepth; ++d)
    {
        uint32_t const group = first + d * threads;
        if (group < groups)
        {
            v[d] = reinterpret_cast<Vec<T, kGroup> const*>(x)[group];
#pragma unroll
            for (int h = 0; h < kGroup; h += 2) // 16-byte loads of the group's indices
            {
                auto const* pairs = reinterpret_cast<Vec<int64_t, 2> const*>(indices);
                Vec<int64_t, 2> const pair = pairs[(group * kGroup + h) / 2];
                idx[d][h] = pair.v[0];
                idx[d][h + 1] = pair.v[1];
            }
        }
    }
#pragma unroll
    for (int d = 0; d < kDepth; ++d)
    {
        uint32_t const group = first + d * threads;
        if (group < groups)
        {
            writePairGroup<T, S>(a, y, group, v[d], idx[d]);
        }
    }
}

//! Elements per store of pass 1: 0 for the pair groups (windows 2 long on the innermost axis, x's
//! rows whole groups, the vectors aligned), else 4, 2 or 1 as the innermost ratio and y allow.
template <class T>
int windowStore(uint32_t inner, int64_t inLast, void const* x, void const* indices, void const* y)
{
    if (inner == 2 && inLast % kPairGroup<T> == 0 && isAligned(x, kPairGroup<T> * sizeof(T))
        && isAligned(indices, 16) && isAligned(y, 16))
    {
        return 0;
    }
    if (inner % 4 == 0 && isAligned(y, 4 * sizeof(T)))
    {
        return 4;
    }
    return inner % 2 == 0 && isAligned(y, 2 * sizeof(T)) ? 2 : 1;
}

// Pass 2 (run only when pass 1 raised `pending`): an index outside its own window is scattered
// over the finished windows, so it wins over the zeros and the windows' own values.
template <class T, int S>
__host__ __device__ __forceinline__ void placeStray(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> const& a, uint32_t i)
{
    int64_t const idx = indices[i];
    if (idx < 0 || idx >= int64_t{a.yTotal})
    {
        return;
    }
    bool found = false;
    auto findInRow = [&](uint32_t row) { found = found || (idx >= row && idx < int64_t{row} + a.ratio[S - 1]); };
    forEachRow<0, S>(a, windowBase(a, i), findInRow);
    if (!found)
    {
        y[idx] = x[i];
    }
}

} // namespace unpool
} // namespace trtplug
