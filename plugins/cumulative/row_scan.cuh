// The row paths of the scan kernel (cumulative.cu): one warp per row in tiles (staged through
// shared memory, or moved as 16-byte vector runs: fp16/bf16), and few long rows split over a
// block's warps.
#pragma once

#include "cumulative/scan_types.cuh"
#include "cumulative/cumulative.h"

#include <cstdint>

namespace trtplug
{
namespace cumulative_detail
{

//! One warp scans one contiguous row in tiles of kTile elements.
template <typename T, typename Op>
struct WarpRowScan
{
    using Acc = typename ScanType<T>::Acc;
    //! Runs moved as 16-byte vectors where the tile allows (loadRunVectors): 2-byte types only.
    static constexpr bool kVectorRuns = sizeof(T) == 2 && kVectorHalfRows;
    //! 32 bytes per lane and tile (16 for int64): 2-byte types with vector runs take twice fp32's
    //! elements, so that a warp keeps as many bytes in flight per tile.
    static constexpr int kItems = sizeof(T) > 4 ? kLaneItems / 2 : kVectorRuns ? 2 * kLaneItems : kLaneItems;
    static constexpr int kVectorItems = 16 / static_cast<int>(sizeof(T));
    static constexpr int kRunVectors = kItems / kVectorItems;
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

    //! The lowest physical element of the tile at logical `tile` holding `count` elements.
    __device__ static int64_t tileBase(int64_t length, int64_t tile, int count, bool reverse)
    {
        return reverse ? length - tile - count : tile;
    }

    __device__ static bool on16Bytes(void const* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

    //! The lowest physical element (from the tile's) of a lane's run in a full tile.
    __device__ static int runBase(bool reverse, int lane)
    {
        return reverse ? kTile - (lane + 1) * kItems : lane * kItems;
    }

    //! A lane's run (logical elements lane * kItems + k) straight from global memory, as
    //! kRunVectors whole 16-byte vectors (a full tile whose start is on 16 bytes); a reversed run
    //! is the mirrored vectors read back to front. No staging: a third of the staged path's
    //! instructions per element, which 2-byte types (twice the elements per byte) need.
    __device__ static void loadRunVectors(T const* xTile, bool reverse, int lane, Acc (&v)[kItems])
    {
        using Vector = Vec<T, kVectorItems>;
        Vector run[kRunVectors];
        Vector const* from = reinterpret_cast<Vector const*>(xTile + runBase(reverse, lane));
#pragma unroll
        for (int j = 0; j < kRunVectors; ++j)
        {
            run[j] = from[j];
        }
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const e = reverse ? kItems - 1 - k : k;
            v[k] = ScanType<T>::widen(run[e / kVectorItems].v[e % kVectorItems]);
        }
    }

    __device__ static void storeRunVectors(T* yTile, bool reverse, int lane, Acc const (&v)[kItems])
    {
        using Vector = Vec<T, kVectorItems>;
        Vector run[kRunVectors];
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const e = reverse ? kItems - 1 - k : k;
            run[e / kVectorItems].v[e % kVectorItems] = ScanType<T>::narrow(v[k]);
        }
        Vector* to = reinterpret_cast<Vector*>(yTile + runBase(reverse, lane));
#pragma unroll
        for (int j = 0; j < kRunVectors; ++j)
        {
            to[j] = run[j];
        }
    }

    //! A lane's run through the stage (any tile: coalesced 1-element accesses, then the lane
    //! reads its run from shared memory); the identity past `count`.
    __device__ static void loadRunStaged(T const* x, int64_t length, int64_t tile, int count, bool reverse, T* stage,
        int lane, Acc (&v)[kItems])
    {
        stageIn(x, length, tile, count, reverse, stage, lane);
        __syncwarp();
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const i = lane * kItems + k;
            v[k] = i < count ? ScanType<T>::widen(stage[slot(i)]) : Op::template identity<Acc>();
        }
    }

    __device__ static void storeRunStaged(
        T* y, int64_t length, int64_t tile, int count, bool reverse, T* stage, int lane, Acc const (&v)[kItems])
    {
        __syncwarp(); // every lane has read the tile before it is overwritten
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const i = lane * kItems + k;
            if (i < count)
            {
                stage[slot(i)] = ScanType<T>::narrow(v[k]);
            }
        }
        __syncwarp();
        stageOut(y, length, tile, count, reverse, stage, lane);
        __syncwarp(); // stored before the next tile is staged
    }

    //! Turns the lanes' runs of one tile into their outputs in place (lane-local runs, a warp scan
    //! of the run totals, `carry` the scan of the tiles before); returns the carry after the tile.
    __device__ static Acc scanRuns(Acc (&v)[kItems], Acc carry, bool exclusive, int lane)
    {
#pragma unroll
        for (int k = 1; k < kItems; ++k)
        {
            v[k] = Op()(v[k - 1], v[k]);
        }
        Acc const inclusive = warpInclusive(v[kItems - 1], lane);
        Acc const before = __shfl_up_sync(kFullMask, inclusive, 1);
        Acc const prefix = lane == 0 ? carry : Op()(carry, before);
#pragma unroll
        for (int k = kItems - 1; k >= 0; --k) // downwards: v[k - 1] is still the inclusive run
        {
            v[k] = exclusive ? (k == 0 ? prefix : Op()(prefix, v[k - 1])) : Op()(prefix, v[k]);
        }
        return Op()(carry, __shfl_sync(kFullMask, inclusive, kWarp - 1));
    }

    //! Scans logical elements [from, to) of a row of `length` (reversed rows are read from the
    //! end), `carry` being the scan of everything before `from`. The choice between vectors and the
    //! stage is per tile and the same for the whole warp (it depends on the tile only).
    __device__ static void row(T const* x, T* y, int64_t length, int64_t from, int64_t to, Acc carry,
        ScanOptions const& o, T* stage, int lane)
    {
        for (int64_t tile = from; tile < to; tile += kTile)
        {
            int const count = static_cast<int>(to - tile < kTile ? to - tile : kTile);
            int64_t const base = tileBase(length, tile, count, o.reverse);
            bool const vectors = kVectorRuns && count == kTile && on16Bytes(x + base) && on16Bytes(y + base);
            Acc v[kItems];
            if (vectors)
            {
                loadRunVectors(x + base, o.reverse, lane, v);
            }
            else
            {
                loadRunStaged(x, length, tile, count, o.reverse, stage, lane, v);
            }
            carry = scanRuns(v, carry, o.exclusive, lane);
            if (vectors)
            {
                storeRunVectors(y + base, o.reverse, lane, v);
            }
            else
            {
                storeRunStaged(y, length, tile, count, o.reverse, stage, lane, v);
            }
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
