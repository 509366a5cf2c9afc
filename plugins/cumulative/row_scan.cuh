// The row paths of the scan kernel (cumulative.cu): one warp per row in staged tiles, and few
// long rows split over a block's warps.
#pragma once

#include "cumulative/scan_types.cuh"
#include "cumulative/cumulative.h"

namespace trtplug
{
namespace cumulative_detail
{

//! One warp scans one contiguous row in tiles of kTile elements.
template <typename T, typename Op>
struct WarpRowScan
{
    using Acc = typename ScanType<T>::Acc;
    static constexpr int kItems = sizeof(T) > 4 ? kLaneItems / 2 : kLaneItems;
    static constexpr int kTile = kWarp * kItems;
    static constexpr int kStage = kTile + kItems; //!< one padding slot per 32 elements: no bank conflicts

    __device__ static int slot(int i) { return i + i / kWarp; }

    //! Tile elements [0, count) in logical (scan) order between global memory and the stage,
    //! element i at lane i % 32: each access of the warp touches consecutive addresses.
    __device__ static void stageIn(
        T const* x, int64_t length, int64_t tile, int count, bool reverse, T* stage, int lane)
    {
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const i = k * kWarp + lane;
            int64_t const j = tile + i;
            if (i < count)
            {
                stage[slot(i)] = x[reverse ? length - 1 - j : j];
            }
        }
    }

    __device__ static void stageOut(
        T* y, int64_t length, int64_t tile, int count, bool reverse, T const* stage, int lane)
    {
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const i = k * kWarp + lane;
            int64_t const j = tile + i;
            if (i < count)
            {
                y[reverse ? length - 1 - j : j] = stage[slot(i)];
            }
        }
    }

    //! Inclusive scan of `total` over the warp's lanes (Hillis-Steele, in lane order).
    __device__ static Acc warpInclusive(Acc total, int lane)
    {
#pragma unroll
        for (int offset = 1; offset < kWarp; offset <<= 1)
        {
            Acc const before = __shfl_up_sync(kFullMask, total, offset);
            total = lane >= offset ? Op()(before, total) : total;
        }
        return total;
    }

    //! Scans logical elements [from, to) of a row of `length` (reversed rows are read from the
    //! end), `carry` being the scan of everything before `from`.
    __device__ static void row(T const* x, T* y, int64_t length, int64_t from, int64_t to, Acc carry,
        ScanOptions const& o, T* stage, int lane)
    {
        for (int64_t tile = from; tile < to; tile += kTile)
        {
            int const count = static_cast<int>(to - tile < kTile ? to - tile : kTile);
            stageIn(x, length, tile, count, o.reverse, stage, lane);
            __syncwarp();
            Acc v[kItems]; // lane-local inclusive run over elements lane * kItems + k
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                int const i = lane * kItems + k;
                v[k] = i < count ? ScanType<T>::widen(stage[slot(i)]) : Op::template identity<Acc>();
                v[k] = k > 0 ? Op()(v[k - 1], v[k]) : v[k];
            }
            Acc const inclusive = warpInclusive(v[kItems - 1], lane);
            Acc const before = __shfl_up_sync(kFullMask, inclusive, 1);
            Acc const prefix = lane == 0 ? carry : Op()(carry, before);
            carry = Op()(carry, __shfl_sync(kFullMask, inclusive, kWarp - 1));
            __syncwarp(); // every lane has read the tile before it is overwritten
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                int const i = lane * kItems + k;
                Acc const out = o.exclusive ? (k == 0 ? prefix : Op()(prefix, v[k - 1])) : Op()(prefix, v[k]);
                if (i < count)
                {
                    stage[slot(i)] = ScanType<T>::narrow(out);
                }
            }
            __syncwarp();
            stageOut(y, length, tile, count, o.reverse, stage, lane);
            __syncwarp(); // stored before the next tile is staged
        }
    }

    //! Op over logical elements [from, to) of a row, the result in every lane (coalesced loads;
    //! floats combine in another order than the scan's, which rounding tolerates).
    __device__ static Acc reduce(T const* x, int64_t length, int64_t from, int64_t to, bool reverse, int lane)
    {
        Acc acc = Op::template identity<Acc>();
        for (int64_t tile = from; tile < to; tile += kTile)
        {
            Acc v[kItems];
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                int64_t const j = tile + k * kWarp + lane;
                v[k] = j < to ? ScanType<T>::widen(x[reverse ? length - 1 - j : j]) : Op::template identity<Acc>();
            }
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                acc = Op()(acc, v[k]);
            }
        }
#pragma unroll
        for (int offset = kWarp / 2; offset > 0; offset >>= 1)
        {
            acc = Op()(acc, __shfl_xor_sync(kFullMask, acc, offset));
        }
        return acc;
    }
};

//! Few long rows (one warp per row would leave most of the GPU idle): a block per row, its 8 warps
//! each taking one segment of the row; each warp reduces its segment, the block shares the totals
//! through `totals` (kWarpsPerBlock accumulators), and each warp scans its segment from the total
//! of the segments before it. Reads x twice: 1.5x a copy's traffic, 8x the parallelism per row.
template <typename T, typename Op>
__device__ void scanRowSegments(T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, T* stage,
    typename ScanType<T>::Acc* totals)
{
    using Row = WarpRowScan<T, Op>;
    using Acc = typename ScanType<T>::Acc;
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const segment = static_cast<int>(threadIdx.x / kWarp);
    int64_t const segmentLength = (g.length + kWarpsPerBlock - 1) / kWarpsPerBlock;
    int64_t const from = segment * segmentLength < g.length ? segment * segmentLength : g.length;
    int64_t const to = from + segmentLength < g.length ? from + segmentLength : g.length;
    // The loop bound is the same for the whole block: every thread reaches each __syncthreads.
    for (int64_t r = blockIdx.x; r < g.outer; r += gridDim.x)
    {
        T const* row = x + r * g.length;
        Acc const total = Row::reduce(row, g.length, from, to, o.reverse, lane);
        if (lane == 0)
        {
            totals[segment] = total;
        }
        __syncthreads();
        Acc carry = Op::template identity<Acc>();
        for (int s = 0; s < segment; ++s)
        {
            carry = Op()(carry, totals[s]);
        }
        Row::row(row, y + r * g.length, g.length, from, to, carry, o, stage, lane);
        __syncthreads(); // totals are read before the next row writes them
    }
}

} // namespace cumulative_detail
} // namespace trtplug
