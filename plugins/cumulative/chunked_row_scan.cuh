// Few long rows (a 1-D x above all) scanned by many warps at once, reduce then scan over chunks:
//  1. reduceRowChunks: a warp per chunk of kChunkTiles warp tiles reduces it (coalesced loads);
//  2. scanChunkTotals: a block per row turns the chunk totals into exclusive prefixes;
//  3. scanRowChunks (inside the main kernel): a warp per chunk scans it from its prefix with the
//     verified warp row scan (WarpRowScan::row), so exclusive/reverse/wraparound are its own.
// Traffic: x read twice and y written once (1.5x a copy), as the segmented row path it replaces,
// but with a warp per 4 KiB chunk instead of one block per row: a 1-D scan of 1M fp32 elements
// runs on 1024 warps instead of 8. A 1-D x of a few MiB stays in the 50 MB L2 between the passes.
// The chunk totals and prefixes are parked in y itself (each chunk's lowest elements, overwritten
// only by the warp that scans that chunk, after it has read them): no scratch buffer, so the
// launcher's signature and the plugin's workspace stay as they are. x and y must not alias.
#pragma once

#include "cumulative/row_scan.cuh"
#include "cumulative/scan_types.cuh"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace trtplug
{
namespace cumulative_detail
{

//! The switch back to the old row paths (segmented rows, warp per row): false, and nothing else.
constexpr bool kChunkedRows = true;
constexpr int kChunkTiles = 4; //!< warp tiles per chunk: 1024 elements (fp16/bf16 2048, int64 512)

//! What the host knows: whether the chunked path may run (x and y apart, x large enough for a
//! row of two chunks) and the main kernel's block count, which the row-count test compares with.
struct ChunkPlan
{
    bool enabled{false};
    int64_t blocks{1};
};

template <typename T>
__host__ __device__ constexpr int64_t chunkLength()
{
    return int64_t{kChunkTiles} * WarpRowScan<T, SumOp>::kTile;
}

//! Rows (inner == 1) of two chunks or more, too few of them for a warp each to fill a grid of
//! `blocks`: the test the segmented row path had.
template <typename T>
__host__ __device__ inline bool chunkedRowGeometry(int64_t outer, int64_t length, int64_t inner, int64_t blocks)
{
    return inner == 1 && length >= 2 * chunkLength<T>() && outer * kSegmentedRowsPerBlocks <= blocks;
}

//! The device's choice (the axis is only known there).
template <typename T>
__device__ inline bool takesChunkedRows(ScanGeometry const& g, ChunkPlan const& plan)
{
    return plan.enabled && chunkedRowGeometry<T>(g.outer, g.length, g.inner, plan.blocks);
}

//! Chunk c of a row: `perRow = length / chunkLength` chunks, the last one taking the remainder
//! too, so that every chunk holds at least chunkLength elements (room for a parked accumulator).
template <typename T>
struct ChunkRange
{
    int64_t from;   //!< logical (scan-order) range of the chunk in its row
    int64_t to;
    int64_t parked; //!< the chunk's lowest physical element: where its accumulator is parked
    bool last;

    __device__ ChunkRange(int64_t length, int64_t c, int64_t perRow, bool reverse)
        : from(c * chunkLength<T>())
        , to(c == perRow - 1 ? length : from + chunkLength<T>())
        , parked(reverse ? length - to : from)
        , last(c == perRow - 1)
    {
    }
};

//! An accumulator stored in (and read back from) sizeof(Acc) / sizeof(T) consecutive elements
//! of y, as words of the element's size: y is only aligned for T.
template <typename T>
struct ParkedAcc
{
    using Acc = typename ScanType<T>::Acc;
    using Word = typename std::conditional<sizeof(T) == 2, unsigned short,
        typename std::conditional<sizeof(T) == 4, unsigned int, unsigned long long>::type>::type;
    static_assert(sizeof(Word) == sizeof(T) && sizeof(Acc) % sizeof(T) == 0, "Acc is whole words of T");
    static constexpr int kWords = sizeof(Acc) / sizeof(T);

    __device__ static void store(T* at, Acc a)
    {
        Word w[kWords];
        memcpy(w, &a, sizeof(Acc));
#pragma unroll
        for (int k = 0; k < kWords; ++k)
        {
            reinterpret_cast<Word*>(at)[k] = w[k];
        }
    }
    __device__ static Acc load(T const* at)
    {
        Word w[kWords];
#pragma unroll
        for (int k = 0; k < kWords; ++k)
        {
            w[k] = reinterpret_cast<Word const*>(at)[k];
        }
        Acc a;
        memcpy(&a, w, sizeof(Acc));
        return a;
    }
};

//! Exclusive scan of one value per thread over the block, in thread order; every thread of the
//! block must call it. `warpTotals` holds kWarpsPerBlock accumulators.
template <typename T, typename Op>
__device__ typename ScanType<T>::Acc blockExclusive(typename ScanType<T>::Acc v, typename ScanType<T>::Acc* warpTotals)
{
    using Acc = typename ScanType<T>::Acc;
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const warp = static_cast<int>(threadIdx.x / kWarp);
    Acc const inclusive = WarpRowScan<T, Op>::warpInclusive(v, lane);
    Acc const before = __shfl_up_sync(kFullMask, inclusive, 1);
    if (lane == kWarp - 1)
    {
        warpTotals[warp] = inclusive;
    }
    __syncthreads();
    Acc prefix = Op::template identity<Acc>();
    for (int w = 0; w < warp; ++w)
    {
        prefix = Op()(prefix, warpTotals[w]);
    }
    __syncthreads(); // warpTotals are read before the next call writes them
    return lane == 0 ? prefix : Op()(prefix, before);
}

//! Pass 1: each chunk's total parked in y (the last chunk of a row has none: nothing follows it).
template <typename T, typename Op>
__global__ void __launch_bounds__(kBlockThreads) reduceRowChunks(
    T const* x, T* y, TensorShape shape, void const* axis, bool axis64, ScanOptions o, ChunkPlan plan)
{
    ScanGeometry g;
    if (!splitAt(shape, axis, axis64, g) || !takesChunkedRows<T>(g, plan))
    {
        return; // the main kernel takes another path
    }
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int64_t const perRow = g.length / chunkLength<T>();
    int64_t const warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
    // `item` is the same for a warp's 32 lanes: the warp-wide shuffles in reduce see all of them.
    for (int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
         item < g.outer * perRow; item += warps)
    {
        int64_t const r = item / perRow;
        ChunkRange<T> const c(g.length, item - r * perRow, perRow, o.reverse);
        if (c.last)
        {
            continue;
        }
        auto const total = WarpRowScan<T, Op>::reduce(x + r * g.length, g.length, c.from, c.to, o.reverse, lane);
        if (lane == 0)
        {
            ParkedAcc<T>::store(y + r * g.length + c.parked, total);
        }
    }
}

constexpr int kTotalsInFlight = 8;

//! Chunk totals c0 .. c0 + kTotalsInFlight - 1 of a row (the identity past `end`, and for the row's
//! last chunk, which has none), all loaded before any is used: a thread's run of chunks costs one
//! memory latency per kTotalsInFlight chunks, not one per chunk.
template <typename T, typename Op>
__device__ void loadChunkTotals(T const* row, int64_t length, int64_t c0, int64_t end, int64_t perRow, bool reverse,
    typename ScanType<T>::Acc (&totals)[kTotalsInFlight])
{
    using Acc = typename ScanType<T>::Acc;
#pragma unroll
    for (int u = 0; u < kTotalsInFlight; ++u)
    {
        int64_t const c = c0 + u;
        totals[u] = c < end && c < perRow - 1
            ? ParkedAcc<T>::load(row + ChunkRange<T>(length, c, perRow, reverse).parked)
            : Op::template identity<Acc>();
    }
}

//! Pass 2: a block per row replaces its chunk totals with exclusive prefixes (the scan of all the
//! chunks before), each thread taking a run of consecutive chunks: 4 per thread for a 1-D x of
//! 1M elements (1024 chunks), 128 for 128 MiB of fp32, read kTotalsInFlight at a time.
template <typename T, typename Op>
__global__ void __launch_bounds__(kBlockThreads)
    scanChunkTotals(T* y, TensorShape shape, void const* axis, bool axis64, ScanOptions o, ChunkPlan plan)
{
    using Acc = typename ScanType<T>::Acc;
    __shared__ Acc warpTotals[kWarpsPerBlock];
    ScanGeometry g;
    if (!splitAt(shape, axis, axis64, g) || !takesChunkedRows<T>(g, plan))
    {
        return; // the same answer for the whole block
    }
    int64_t const perRow = g.length / chunkLength<T>();
    int64_t const run = (perRow + kBlockThreads - 1) / kBlockThreads;
    int64_t const begin = static_cast<int64_t>(threadIdx.x) * run;
    int64_t const first = begin < perRow ? begin : perRow;
    int64_t const end = first + run < perRow ? first + run : perRow;
    // The loop bound is the same for the whole block: every thread reaches blockExclusive.
    for (int64_t r = blockIdx.x; r < g.outer; r += gridDim.x)
    {
        T* const row = y + r * g.length;
        Acc totals[kTotalsInFlight];
        Acc runTotal = Op::template identity<Acc>();
        for (int64_t c0 = first; c0 < end; c0 += kTotalsInFlight)
        {
            loadChunkTotals<T, Op>(row, g.length, c0, end, perRow, o.reverse, totals);
#pragma unroll
            for (int u = 0; u < kTotalsInFlight; ++u)
            {
                runTotal = Op()(runTotal, totals[u]);
            }
        }
        Acc prefix = blockExclusive<T, Op>(runTotal, warpTotals);
        for (int64_t c0 = first; c0 < end; c0 += kTotalsInFlight)
        {
            loadChunkTotals<T, Op>(row, g.length, c0, end, perRow, o.reverse, totals); // before any store
#pragma unroll
            for (int u = 0; u < kTotalsInFlight; ++u)
            {
                if (c0 + u < end)
                {
                    ParkedAcc<T>::store(row + ChunkRange<T>(g.length, c0 + u, perRow, o.reverse).parked, prefix);
                }
                prefix = Op()(prefix, totals[u]);
            }
        }
    }
}

//! Pass 3 (called by the main kernel, whose grid the plan's block count is): a warp per chunk
//! scans it from its parked prefix.
template <typename T, typename Op>
__device__ void scanRowChunks(T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, T* stage)
{
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int64_t const perRow = g.length / chunkLength<T>();
    int64_t const warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
    for (int64_t item = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
         item < g.outer * perRow; item += warps)
    {
        int64_t const r = item / perRow;
        ChunkRange<T> const c(g.length, item - r * perRow, perRow, o.reverse);
        T* const yRow = y + r * g.length;
        auto const carry = ParkedAcc<T>::load(yRow + c.parked);
        __syncwarp(); // every lane holds the prefix before the chunk's first tile overwrites it
        WarpRowScan<T, Op>::template row<false>(x + r * g.length, yRow, g.length, c.from, c.to, carry, o, stage, lane);
    }
}

//! Whether some axis of a non-empty `shape` would take the chunked rows: the host does not know
//! the axis, but it knows every axis' (outer, length, inner).
template <typename T>
inline bool someAxisChunked(TensorShape const& shape, int64_t blocks)
{
    int64_t outer = shape.volume();
    int64_t inner = 1;
    for (int32_t a = shape.rank - 1; a >= 0; --a)
    {
        outer /= shape.d[a];
        if (chunkedRowGeometry<T>(outer, shape.d[a], inner, blocks))
        {
            return true;
        }
        inner *= shape.d[a];
    }
    return false;
}

//! The host's part of the choice: the chunked passes may run (x and y apart: y holds the parked
//! totals while x is read; some axis has the geometry, else passes 1 and 2 are two launches of up
//! to 4224 blocks that return at once, device time a row scan pays for nothing), and the main
//! kernel's block count.
template <typename T>
inline ChunkPlan chunkPlan(void const* x, void const* y, TensorShape const& shape)
{
    int64_t const blocks = gridFor(shape.volume());
    return ChunkPlan{kChunkedRows && x != y && someAxisChunked<T>(shape, blocks), blocks};
}

//! Passes 1 and 2, queued before the main kernel when the plan allows (the device decides
//! whether they do anything: they return at once for any other geometry).
template <typename T, typename Op>
cudaError_t launchChunkPasses(T const* x, T* y, TensorShape const& shape, void const* axis, bool axis64,
    ScanOptions const& o, ChunkPlan const& plan, cudaStream_t stream)
{
    if (!plan.enabled)
    {
        return cudaSuccess;
    }
    reduceRowChunks<T, Op><<<static_cast<int>(plan.blocks), kBlockThreads, 0, stream>>>(
        x, y, shape, axis, axis64, o, plan);
    // Rows taken here number at most blocks / kSegmentedRowsPerBlocks: a block each.
    int const rowBlocks = static_cast<int>(std::max<int64_t>(1, plan.blocks / kSegmentedRowsPerBlocks));
    scanChunkTotals<T, Op><<<rowBlocks, kBlockThreads, 0, stream>>>(y, shape, axis, axis64, o, plan);
    return cudaGetLastError();
}

} // namespace cumulative_detail
} // namespace trtplug
