// The split-KV combine of the attention core (attention_core.h): the partial softmax states of a
// query row's key splits (Partials) merged into its output by attentionCombineKernel, one warp per
// row (combineRow). Included only from attention_core.cu.
#pragma once

#include "common/attention_kernels.cuh"

#include <cstdint>

namespace trtplug
{
namespace attention
{

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
    float const* stats = part.stats + 2 * row * part.splits;
    float ms[2];
    float w[2];
    float l = 0.F;
#pragma unroll
    for (int j = 0; j < 2; ++j)
    {
        int const s = lane + 32 * j;
        ms[j] = s < part.splits ? stats[2 * s] : -INFINITY;
        w[j] = s < part.splits ? stats[2 * s + 1] : 0.F; // the split's sum until weighted below
    }
    float m = fmaxf(ms[0], ms[1]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
    {
        m = fmaxf(m, __shfl_xor_sync(0xffffffffU, m, o));
    }
#pragma unroll
    for (int j = 0; j < 2; ++j)
    {
        float const weight = ms[j] == -INFINITY ? 0.F : __expf(ms[j] - m);
        l += weight * w[j];
        w[j] = weight;
    }
    l = warpSum(l);
    float acc[kPer] = {};
    int32_t const splits = m == -INFINITY ? 0 : part.splits; // every key masked: nothing to merge
    float const* partial = part.acc + row * part.splits * p.vHeadDim;
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

//! The split-KV combine: one warp per row (combineRow). grid: rows / kWarps.
template <typename T, int kPer>
__global__ void __launch_bounds__(kThreads) attentionCombineKernel(AttentionProblem p, Partials part)
{
    int64_t const row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
    if (row < static_cast<int64_t>(p.batch) * p.qHeads * p.qLen)
    {
        combineRow<T, kPer>(p, part, row);
    }
}

} // namespace attention
} // namespace trtplug
