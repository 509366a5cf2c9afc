// The row paths of the scan kernel (cumulative.cu): one warp per row in tiles (whole tiles on 16
// bytes moved as 16-byte vectors, the others staged through shared memory), and few long rows
// split over a block's warps.
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
    //! A tile is kRunVectors sub-tiles of one 16-byte vector's elements per lane (32 bytes per lane
    //! and tile in every type). Whole tiles on 16 bytes move as vectors (tileVectors), the others
    //! sub-tile by sub-tile through the stage.
    static constexpr bool kVectorRuns = kVectorRows;
    static constexpr int kVectorItems = 16 / static_cast<int>(sizeof(T));
    static constexpr int kRunVectors = 2;
    static constexpr int kItems = kRunVectors * kVectorItems;
    static constexpr int kTile = kWarp * kItems;
    static constexpr int kSub = kWarp * kVectorItems;
    static constexpr int kStage = kSub + kVectorItems; //!< one padding slot per 32 elements: no bank conflicts

    __device__ static int slot(int i) { return i + i / kWarp; }

    //! Sub-tile elements [0, count) in logical (scan) order between global memory and the stage,
    //! element i at lane i % 32: each access of the warp touches consecutive addresses.
    __device__ static void stageIn(
        T const* x, int64_t length, int64_t first, int count, bool reverse, T* stage, int lane)
    {
#pragma unroll
        for (int k = 0; k < kVectorItems; ++k)
        {
            int const i = k * kWarp + lane;
            int64_t const j = first + i;
            if (i < count)
            {
                stage[slot(i)] = x[reverse ? length - 1 - j : j];
            }
        }
    }

    __device__ static void stageOut(
        T* y, int64_t length, int64_t first, int count, bool reverse, T const* stage, int lane)
    {
#pragma unroll
        for (int k = 0; k < kVectorItems; ++k)
        {
            int const i = k * kWarp + lane;
            int64_t const j = first + i;
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

    //! A full tile on 16 bytes as kRunVectors sub-tiles of one 16-byte vector per lane: sub-tile j
    //! is logical elements [j * kWarp * kVectorItems, (j + 1) * kWarp * kVectorItems), lane l
    //! holding the kVectorItems consecutive ones of vector j * kWarp + l. Every load and store of
    //! the warp is then 512 contiguous bytes, and all kRunVectors loads are issued before the
    //! first scan. A reversed tile reads the mirrored vectors back to front.
    using Vector = Vec<T, kVectorItems>;

    __device__ static int vectorAt(bool reverse, int j, int lane)
    {
        int const logical = j * kWarp + lane;
        return reverse ? kRunVectors * kWarp - 1 - logical : logical;
    }

    //! The vector's elements in logical order (back to front when reversed), widened; a branch
    //! rather than a select per element, so that no second copy of the vector is live.
    __device__ static void widenRun(Vector const& in, bool reverse, Acc (&v)[kVectorItems])
    {
        if (reverse)
        {
#pragma unroll
            for (int k = 0; k < kVectorItems; ++k)
            {
                v[k] = ScanType<T>::widen(in.v[kVectorItems - 1 - k]);
            }
        }
        else
        {
#pragma unroll
            for (int k = 0; k < kVectorItems; ++k)
            {
                v[k] = ScanType<T>::widen(in.v[k]);
            }
        }
    }

    __device__ static void narrowRun(Acc const (&v)[kVectorItems], bool reverse, Vector& out)
    {
        if (reverse)
        {
#pragma unroll
            for (int k = 0; k < kVectorItems; ++k)
            {
                out.v[kVectorItems - 1 - k] = ScanType<T>::narrow(v[k]);
            }
        }
        else
        {
#pragma unroll
            for (int k = 0; k < kVectorItems; ++k)
            {
                out.v[k] = ScanType<T>::narrow(v[k]);
            }
        }
    }

    //! Scans a full vector tile in place from `carry`; returns the carry after it.
    __device__ static Acc tileVectors(T const* xTile, T* yTile, Acc carry, bool exclusive, bool reverse, int lane)
    {
        Vector run[kRunVectors];
#pragma unroll
        for (int j = 0; j < kRunVectors; ++j)
        {
            run[j] = reinterpret_cast<Vector const*>(xTile)[vectorAt(reverse, j, lane)];
        }
#pragma unroll
        for (int j = 0; j < kRunVectors; ++j)
        {
            Acc v[kVectorItems];
            widenRun(run[j], reverse, v);
            carry = scanRuns(v, carry, exclusive, lane);
            narrowRun(v, reverse, run[j]);
        }
#pragma unroll
        for (int j = 0; j < kRunVectors; ++j)
        {
            reinterpret_cast<Vector*>(yTile)[vectorAt(reverse, j, lane)] = run[j];
        }
        return carry;
    }

    //! A lane's run of a sub-tile through the stage (any sub-tile: coalesced 1-element accesses,
    //! then the lane reads its kVectorItems from shared memory); the identity past `count`.
    __device__ static void loadRunStaged(T const* x, int64_t length, int64_t first, int count, bool reverse, T* stage,
        int lane, Acc (&v)[kVectorItems])
    {
        stageIn(x, length, first, count, reverse, stage, lane);
        __syncwarp();
#pragma unroll
        for (int k = 0; k < kVectorItems; ++k)
        {
            int const i = lane * kVectorItems + k;
            v[k] = i < count ? ScanType<T>::widen(stage[slot(i)]) : Op::template identity<Acc>();
        }
    }

    __device__ static void storeRunStaged(T* y, int64_t length, int64_t first, int count, bool reverse, T* stage,
        int lane, Acc const (&v)[kVectorItems])
    {
        __syncwarp(); // every lane has read the sub-tile before it is overwritten
#pragma unroll
        for (int k = 0; k < kVectorItems; ++k)
        {
            int const i = lane * kVectorItems + k;
            if (i < count)
            {
                stage[slot(i)] = ScanType<T>::narrow(v[k]);
            }
        }
        __syncwarp();
        stageOut(y, length, first, count, reverse, stage, lane);
        __syncwarp(); // stored before the next sub-tile is staged
    }

    //! A tile through the stage, sub-tile by sub-tile; returns the carry after it.
    __device__ static Acc tileStaged(T const* x, T* y, int64_t length, int64_t tile, int count, Acc carry,
        ScanOptions const& o, T* stage, int lane)
    {
#pragma unroll 1
        for (int j = 0; j < kRunVectors && j * kSub < count; ++j) // the same bound for the whole warp
        {
            int const n = count - j * kSub < kSub ? count - j * kSub : kSub;
            Acc v[kVectorItems];
            loadRunStaged(x, length, tile + j * kSub, n, o.reverse, stage, lane, v);
            carry = scanRuns(v, carry, o.exclusive, lane);
            storeRunStaged(y, length, tile + j * kSub, n, o.reverse, stage, lane, v);
        }
        return carry;
    }

    //! Turns the lanes' runs of one tile into their outputs in place (lane-local runs, a warp scan
    //! of the run totals, `carry` the scan of the tiles before); returns the carry after the tile.
    template <int kRun>
    __device__ static Acc scanRuns(Acc (&v)[kRun], Acc carry, bool exclusive, int lane)
    {
#pragma unroll
        for (int k = 1; k < kRun; ++k)
        {
            v[k] = Op()(v[k - 1], v[k]);
        }
        Acc const inclusive = warpInclusive(v[kRun - 1], lane);
        Acc const before = __shfl_up_sync(kFullMask, inclusive, 1);
        Acc const prefix = lane == 0 ? carry : Op()(carry, before);
#pragma unroll
        for (int k = kRun - 1; k >= 0; --k) // downwards: v[k - 1] is still the inclusive run
        {
            v[k] = exclusive ? (k == 0 ? prefix : Op()(prefix, v[k - 1])) : Op()(prefix, v[k]);
        }
        return Op()(carry, __shfl_sync(kFullMask, inclusive, kWarp - 1));
    }

    //! Scans logical elements [from, to) of a row of `length` (reversed rows are read from the
    //! end), `carry` being the scan of everything before `from`. The choice between vectors and the
    //! stage is per tile and the same for the whole warp (it depends on the tile only). The chunked
    //! and segmented row paths stage every tile (kVectors false): their extra 64-bit state around
    //! the vector path would exceed the 64 registers of 4 blocks per SM (ptxas spilled 36 bytes).
    template <bool kVectors = kVectorRuns>
    __device__ static void row(T const* x, T* y, int64_t length, int64_t from, int64_t to, Acc carry,
        ScanOptions const& o, T* stage, int lane)
    {
        for (int64_t tile = from; tile < to; tile += kTile)
        {
            int const count = static_cast<int>(to - tile < kTile ? to - tile : kTile);
            int64_t const base = tileBase(length, tile, count, o.reverse);
            if (kVectors && count == kTile && on16Bytes(x + base) && on16Bytes(y + base))
            {
                carry = tileVectors(x + base, y + base, carry, o.exclusive, o.reverse, lane);
            }
            else
            {
                carry = tileStaged(x, y, length, tile, count, carry, o, stage, lane);
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
        Row::template row<false>(row, y + r * g.length, g.length, from, to, carry, o, stage, lane);
        __syncthreads(); // totals are read before the next row writes them
    }
}

} // namespace cumulative_detail
} // namespace trtplug
