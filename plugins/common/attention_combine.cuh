// The split-KV combine of the attention core (attention_core.h): the partial softmax states of a
// query row's key splits (Partials) merged into its output, by attentionCombineKernel after the
// tile kernel or the key-parallel decode, and inside the tensor-core decode by the last block of
// each (batch, kvHead) group to finish (combineGroupWhenLast): the separate launch cost 3-10 us
// (one latency-bound warp per row, plus the launch gap) after a 50 us decode. Both merge a row with
// combineRow: the same arithmetic in the same order. Included from attention_core.cu (and compiled
// for the host by tests/attention_combine_emulation.cu).
#pragma once

#include "common/attention_kernels.cuh"

#include <cmath>
#include <cstdint>

namespace trtplug
{
namespace attention
{

// Host and device: tests/attention_combine_emulation.cu runs the merge and the last-block count on
// the CPU through these.

//! The weight of a partial whose max is m in a merge whose max is top: exp(m - top), 0 for a split
//! without keys (m = -inf). __expf on the device, expf in the host emulation.
__host__ __device__ inline float partialWeight(float m, float top)
{
#ifdef __CUDA_ARCH__
    return m == -INFINITY ? 0.F : __expf(m - top);
#else
    return m == -INFINITY ? 0.F : expf(m - top);
#endif
}

//! Lane `lane`'s share of a row's statistics ([splits, 2] at `stats`): the max and sum of splits
//! lane and lane + 32 (-inf and 0 past the count).
__host__ __device__ inline void laneSplitStats(float const* stats, int32_t splits, int lane, float (&ms)[2], float (&sums)[2])
{
#pragma unroll
    for (int j = 0; j < 2; ++j)
    {
        int const s = lane + 32 * j;
        ms[j] = s < splits ? stats[2 * s] : -INFINITY;
        sums[j] = s < splits ? stats[2 * s + 1] : 0.F;
    }
}

//! The lane's two splits weighed against the row's max m: `w` turns from their sums into their
//! weights; returns their weighted sums added (the lane's term of the row's sum).
__host__ __device__ inline float weighLaneSplits(float const (&ms)[2], float (&w)[2], float m)
{
    float l = 0.F;
#pragma unroll
    for (int j = 0; j < 2; ++j)
    {
        float const weight = partialWeight(ms[j], m);
        l += weight * w[j];
        w[j] = weight;
    }
    return l;
}

//! The split counter of group (b, kvHead): [batch, kvHeads] words.
__host__ __device__ inline unsigned int* groupCounter(AttentionProblem const& p, Partials const& part, int32_t b, int32_t kvHead)
{
    return part.counters + static_cast<int64_t>(b) * p.kvHeads + kvHead;
}

//! Whether the block whose count found `before` blocks of its group done is the group's last.
__host__ __device__ inline bool lastOfGroup(unsigned int before, int32_t splits)
{
    return before == static_cast<unsigned int>(splits - 1);
}

//! Merges the splits of query row `row` (of batch x qHeads x qLen) and writes it: one warp, the
//! calling lane threadIdx.x % 32. Each lane reads the statistics of up to two splits (kMaxSplits),
//! so the row's max, weights and sum take one round trip; the accumulators then load 8 splits at a
//! time (one split at a time, the 17 splits of a 16k-key decode took 10 us, a tenth of the whole
//! attention).
template <typename T, int kPer>
__device__ __forceinline__ void combineRow(AttentionProblem const& p, Partials const& part, int64_t row)
{
    static_assert(kMaxSplits <= 64, "two splits' statistics per lane");
    RowPlace const r{static_cast<int32_t>(row / (static_cast<int64_t>(p.qHeads) * p.qLen)),
        static_cast<int32_t>(row / p.qLen % p.qHeads), static_cast<int32_t>(row % p.qLen), 0, 0};
    int const lane = threadIdx.x % 32;
    float ms[2];
    float w[2]; // the splits' sums until weighed
    laneSplitStats(part.stats + 2 * partialSlot(row, part.splits, 0), part.splits, lane, ms, w);
    float m = fmaxf(ms[0], ms[1]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
    {
        m = fmaxf(m, __shfl_xor_sync(0xffffffffU, m, o));
    }
    float const l = warpSum(weighLaneSplits(ms, w, m));
    float acc[kPer] = {};
    int32_t const splits = m == -INFINITY ? 0 : part.splits; // every key masked: nothing to merge
    float const* partial = part.acc + partialSlot(row, part.splits, 0) * p.vHeadDim;
#pragma unroll 8
    for (int32_t s = 0; s < splits; ++s)
    {
        float const ws = __shfl_sync(0xffffffffU, s < 32 ? w[0] : w[1], s % 32); // s is warp-uniform
#pragma unroll
        for (int k = 0; k < kPer; ++k)
        {
            int const d = lane + 32 * k;
            acc[k] += d < p.vHeadDim ? ws * partial[s * p.vHeadDim + d] : 0.F;
        }
    }
    writeRow<T, kPer>(p, r, m, l, acc);
}

//! The split-KV combine of the tile kernel and the key-parallel decode: one warp per row (combineRow).
//! grid: rows / kWarps.
template <typename T, int kPer>
__global__ void __launch_bounds__(kThreads) attentionCombineKernel(AttentionProblem p, Partials part)
{
    int64_t const row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
    if (row < static_cast<int64_t>(p.batch) * p.qHeads * p.qLen)
    {
        combineRow<T, kPer>(p, part, row);
    }
}

//! Called by every thread of a tensor-core decode block once its split's partials are stored: the
//! block of (b, kvHead) that finishes last merges the group's `rows` rows (warp w takes rows w,
//! w + warps, ..., as combineRow's warp per row) and puts the group's counter back to zero.
template <typename T, int kPer>
__device__ void combineGroupWhenLast(
    AttentionProblem const& p, Partials const& part, int32_t b, int32_t kvHead, int32_t rows)
{
    __shared__ bool last;
    __syncthreads(); // every thread's partial stores are issued
    if (threadIdx.x == 0)
    {
        unsigned int* counter = groupCounter(p, part, b, kvHead);
        __threadfence(); // publishes the block's partials (cumulative over the barrier) before counting
        last = lastOfGroup(atomicAdd(counter, 1U), part.splits);
        if (last)
        {
            *counter = 0U;   // zero for the next launch too, though each launch zeroes them (shared workspace)
            __threadfence(); // acquires the partials the count has seen (the plain loads then see them)
        }
    }
    __syncthreads();
    if (!last)
    {
        return;
    }
    for (int32_t r = threadIdx.x / 32; r < rows; r += blockDim.x / 32)
    {
        int32_t h = 0;
        int32_t i = 0;
        groupRowPlace(p, kvHead, r, h, i);
        combineRow<T, kPer>(p, part, queryRowIndex(p, b, h, i));
    }
}

} // namespace attention
} // namespace trtplug
