// Compress's whole-slice gather: the selected slices of x [outer, axisLen, chunks vectors] copied to
// y [outer, count, chunks], launched for the upper bound (outer * selectable slices) with the work
// past the count skipped. A slice's source is a dependent load (its selected axis index) ahead of
// its data, so a thread copies kSlicesAtOnce slices a pass, their data loads issued together, with
// the next pass's selected indices loaded before them (ncu, H100, one slice a thread: 65.7 of 71.7
// cycles an instruction on the long scoreboard, 86-88% of copy; four slices a pass measured the
// same, 86-87%, on an H100 in run 21: the index latency is not all of it). Included from compress.cu and
// tests/compress_slices_emulation.cu (host code: the loop is __host__ __device__).
#pragma once

#include "common/launch.cuh"

#include <algorithm>
#include <cstdint>

namespace trtplug
{

constexpr int kSlicesAtOnce = 4;        //!< slices a thread copies a pass (its loads in flight together)
constexpr int64_t kSliceMinChunks = 32; //!< a slice of at least a warp of vectors: this kernel

//! gatherSlices' operands, x and y in vectors V.
template <class V>
struct SliceGather
{
    V const* x;
    int64_t const* selected; //!< the selected axis indices, ascending (selectable entries, count valid)
    V* y;
    int64_t axisLen;
    int64_t selectable;
    int64_t chunks; //!< vectors in a slice
    int64_t rows;   //!< outer * selectable: slices of the upper bound
    int64_t count;  //!< selected: the size tensor's value

    //! The outer index of upper-bound slice `row` (o of row = o * selectable + s), without a
    //! division for the common single outer slice.
    __host__ __device__ __forceinline__ int64_t outerOf(int64_t row) const
    {
        return rows == selectable ? 0 : row / selectable;
    }
};

//! The selected axis indices of the slices row, row + step, ... (kSlicesAtOnce of them): loads
//! only, no use of their values (so that they stay in flight); -1 for a slice past the upper
//! bound or the count.
template <class V>
__host__ __device__ __forceinline__ void fetchSelected(
    SliceGather<V> const& g, int64_t row, int64_t step, int64_t (&selected)[kSlicesAtOnce])
{
    for (int k = 0; k < kSlicesAtOnce; ++k)
    {
        int64_t const r = row + k * step;
        int64_t const s = r - g.outerOf(r) * g.selectable;
        selected[k] = r < g.rows && s < g.count ? g.selected[s] : -1;
    }
}

//! Vectors lane, lane + lanes, ... of the slices row + k * step whose selected index is >= 0: all
//! of their loads before any store.
template <class V, class Store>
__host__ __device__ __forceinline__ void copyPass(SliceGather<V> const& g, int64_t row, int64_t step,
    int64_t const (&selected)[kSlicesAtOnce], int64_t lane, int64_t lanes, Store const& store)
{
    int64_t from[kSlicesAtOnce]; // vector offsets of the slices in x and y
    int64_t to[kSlicesAtOnce];
    for (int k = 0; k < kSlicesAtOnce; ++k)
    {
        int64_t const r = row + k * step;
        int64_t const o = g.outerOf(r);
        from[k] = (o * g.axisLen + selected[k]) * g.chunks;
        to[k] = (o * g.count + r - o * g.selectable) * g.chunks;
    }
    for (int64_t i = lane; i < g.chunks; i += lanes)
    {
        V v[kSlicesAtOnce];
        for (int k = 0; k < kSlicesAtOnce; ++k)
        {
            if (selected[k] >= 0)
            {
                v[k] = g.x[from[k] + i];
            }
        }
        for (int k = 0; k < kSlicesAtOnce; ++k)
        {
            if (selected[k] >= 0)
            {
                store(g.y + to[k] + i, v[k]);
            }
        }
    }
}

//! One thread's share: the slices first, first + step, ... in passes of kSlicesAtOnce (the old
//! grid-stride loop's slices, kSlicesAtOnce iterations at a time), lanes threads along a slice.
template <class V, class Store = PlainStore>
__host__ __device__ __forceinline__ void copySlices(
    SliceGather<V> const& g, int64_t first, int64_t step, int64_t lane, int64_t lanes, Store const& store = {})
{
    int64_t selected[kSlicesAtOnce];
    fetchSelected(g, first, step, selected);
    for (int64_t row = first; row < g.rows; row += kSlicesAtOnce * step)
    {
        int64_t next[kSlicesAtOnce];
        fetchSelected(g, row + kSlicesAtOnce * step, step, next); // in flight while this pass copies
        copyPass(g, row, step, selected, lane, lanes, store);
        for (int k = 0; k < kSlicesAtOnce; ++k)
        {
            selected[k] = next[k];
        }
    }
}

//! A block copies blockDim.y slices at a time, blockDim.x threads a slice (a warp or more): short
//! slices (a 256-element fp16 slice is 32 vectors) share a block, so each SM keeps full blocks.
//! 64 registers (4 blocks a multiprocessor, half the threads of one slice a thread at 30), no
//! spill: 4 slices a thread in flight make twice the loads.
template <class V>
__global__ void __launch_bounds__(kBlockThreads, 4) gatherSlices(SliceGather<V> g, int32_t const* __restrict__ count)
{
    g.count = *count;
    int64_t const step = int64_t{gridDim.x} * blockDim.y;
    copySlices(g, int64_t{blockIdx.x} * blockDim.y + threadIdx.y, step, threadIdx.x, blockDim.x);
}

//! gatherSlices' launch shape for `rows` slices of `chunks` vectors, at most maxBlocks blocks.
struct SliceLaunch
{
    dim3 block;
    int blocks;
};

inline SliceLaunch sliceLaunch(int64_t rows, int64_t chunks, int64_t maxBlocks)
{
    int const threads = static_cast<int>(std::min<int64_t>(kBlockThreads, (chunks + 31) / 32 * 32));
    int const rowsPerBlock = kBlockThreads / threads;
    int64_t const perBlock = int64_t{rowsPerBlock} * kSlicesAtOnce;
    int64_t const blocks = std::min((rows + perBlock - 1) / perBlock, maxBlocks);
    return {dim3(threads, rowsPerBlock), static_cast<int>(std::max<int64_t>(blocks, 1))};
}

//! The widest vector (16, 8 or 4 bytes) that divides a slice and suits both pointers' alignment,
//! when the slice holds at least a warp of them; 0 otherwise (one element per thread then).
inline size_t sliceVectorBytes(size_t sliceBytes, void const* x, void const* y) noexcept
{
    for (size_t width : {size_t{16}, size_t{8}, size_t{4}})
    {
        if (sliceBytes % width == 0 && isAligned(x, width) && isAligned(y, width)
            && static_cast<int64_t>(sliceBytes / width) >= kSliceMinChunks)
        {
            return width;
        }
    }
    return 0;
}

} // namespace trtplug
