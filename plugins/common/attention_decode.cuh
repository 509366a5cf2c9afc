// The decode-shaped attention kernel of the attention core (attention_core.h): few query rows per
// KV head (one new token, or a short chunk, times the GQA group: at most kDecodeMaxRows), long
// caches. The tile kernel (attention_kernels.cuh) is row-parallel, so there a K/V tile feeds only
// these few warps and each key costs a full-warp reduction: it reached 7% of copy bandwidth on the
// H200. Here the keys are parallel instead: a group of kLanes lanes owns one key at a time, each
// lane a 16-byte slice of its K and V rows, so every K/V byte is loaded once, with 16-byte loads
// and kUnroll keys per group in flight, and the few query rows live in registers. The groups'
// partial softmax states merge through shared memory at the end; splits of the keys across blocks
// merge in attentionCombineKernel (attention_combine.cuh), as the tile kernel's do (same Partials layout).
// Included only from attention_core.cu.
#pragma once

#include "common/attention_kernels.cuh"

#include <cstdint>

namespace trtplug
{
namespace attention
{

constexpr int kDecodeThreads = 128;
constexpr int kDecodeMaxRows = 8;
static_assert(kDecodeMaxRows <= kWarps, "decode rows fit one row tile: the tile kernel's split count applies");

//! Elements of T in one 16-byte load.
template <typename T>
constexpr int kVecOf = 16 / static_cast<int>(sizeof(T));

//! Keys each lane group loads before using them: enough bytes in flight, registers permitting.
template <int kRows>
constexpr int kDecodeUnroll = kRows >= 8 ? 2 : 4;

//! Query row `ri` of the block's kvHead: its query head and row (rows run over the group's heads first).
__device__ __forceinline__ RowPlace decodeRow(AttentionProblem const& p, int32_t b, int32_t kvHead, int32_t ri)
{
    RowPlace r{b, 0, 0, 0, validKeys(p, b)};
    groupRowPlace(p, kvHead, ri, r.h, r.i);
    r.position = rowStart(p, b) + r.i;
    return r;
}

//! Logits of one key for every row: masked, capped and biased as the tile kernel's (logit()).
template <typename T, int kRows>
__device__ __forceinline__ void rowLogits(AttentionProblem const& p, RowPlace const (&places)[kRows], int32_t rows,
    int32_t j, int32_t hi, float const (&dots)[kRows], float (&s)[kRows])
{
#pragma unroll
    for (int r = 0; r < kRows; ++r)
    {
        s[r] = r < rows && j < hi ? logit<T>(p, places[r], j, dots[r]) : -INFINITY;
    }
}

//! A 16-byte slice of row j of (b, kvHead) in `view` at element `col`, or zeros past the keys
//! [.., hi) and past the row's `dim` elements.
template <typename T>
__device__ __forceinline__ uint4 loadSlice(HeadView const& view, int32_t b, int32_t kvHead, int32_t j, int32_t hi,
    int32_t col, int32_t dim)
{
    uint4 raw{0U, 0U, 0U, 0U}; // all-zero bits: 0 in every float type
    if (j < hi && col < dim)
    {
        T const* row = static_cast<T const*>(view.data) + b * view.batchStride + kvHead * view.headStride
            + static_cast<int64_t>(j) * view.seqStride;
        raw = *reinterpret_cast<uint4 const*>(row + col);
    }
    return raw;
}

template <typename T>
__device__ __forceinline__ float sliceAt(uint4 const& raw, int e)
{
    return toFloat(reinterpret_cast<T const*>(&raw)[e]);
}

//! Folds kUnroll keys' logits s[u][r] and V slices into each row's running (m, l, acc).
template <typename T, int kRows, int kUnroll>
__device__ __forceinline__ void foldKeys(float const (&s)[kUnroll][kRows], uint4 const (&v)[kUnroll],
    float (&m)[kRows], float (&l)[kRows], float (&acc)[kRows][kVecOf<T>])
{
#pragma unroll
    for (int r = 0; r < kRows; ++r)
    {
        float top = m[r];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            top = fmaxf(top, s[u][r]);
        }
        if (top == -INFINITY)
        {
            continue; // nothing seen yet for this row
        }
        float const alpha = m[r] == -INFINITY ? 0.F : __expf(m[r] - top);
        l[r] *= alpha;
#pragma unroll
        for (int e = 0; e < kVecOf<T>; ++e)
        {
            acc[r][e] *= alpha;
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            float const w = s[u][r] == -INFINITY ? 0.F : __expf(s[u][r] - top);
            l[r] += w;
#pragma unroll
            for (int e = 0; e < kVecOf<T>; ++e)
            {
                acc[r][e] += w * sliceAt<T>(v[u], e);
            }
        }
        m[r] = top;
    }
}

//! The block's rows done: the kGroups partial softmax states of each row (max, sum and the
//! accumulator columns, in shared memory) merged, then stored as the output row (one split) or as
//! this split's partial, which attentionCombineKernel merges.
template <typename T, int kGroups, int kRows, int kWidth>
__device__ void storeMergedRows(AttentionProblem const& p, Partials const& part, int32_t b, int32_t kvHead,
    int32_t split, int32_t rows, float const (&groupMax)[kGroups][kRows], float const (&groupSum)[kGroups][kRows],
    float const (&groupAcc)[kGroups][kRows][kWidth])
{
    for (int idx = threadIdx.x; idx < rows * p.vHeadDim; idx += blockDim.x)
    {
        int const r = idx / p.vHeadDim;
        int const d = idx - r * p.vHeadDim;
        float top = -INFINITY;
#pragma unroll
        for (int g = 0; g < kGroups; ++g)
        {
            top = fmaxf(top, groupMax[g][r]);
        }
        float sum = 0.F;
        float out = 0.F;
#pragma unroll
        for (int g = 0; g < kGroups; ++g)
        {
            float const w = groupMax[g][r] == -INFINITY ? 0.F : __expf(groupMax[g][r] - top);
            sum += w * groupSum[g][r];
            out += w * groupAcc[g][r][d];
        }
        RowPlace const place = decodeRow(p, b, kvHead, r);
        if (part.splits == 1)
        {
            RowScale const rs = rowScale<T>(p, place.h, top, sum);
            float const fill = p.zeroFullyMaskedRows ? 0.F : NAN;
            T* row = static_cast<T*>(p.out.data) + b * p.out.batchStride + place.h * p.out.headStride
                + static_cast<int64_t>(place.i) * p.out.seqStride;
            row[d] = fromFloat<T>(rs.empty ? fill : out * rs.inv);
            continue;
        }
        int64_t const slot = partialSlot(queryRowIndex(p, b, place.h, place.i), part.splits, split);
        if (d == 0)
        {
            part.stats[2 * slot] = top;
            part.stats[2 * slot + 1] = sum;
        }
        part.acc[slot * p.vHeadDim + d] = out;
    }
}

//! One block: every query row of (batch, kvHead) over one split of the keys. grid (splits,
//! kvHeads, batch), kDecodeThreads threads in groups of kLanes (a power of two <= 32, at least
//! the 16-byte slices of the longer head). Requires rows <= kRows, 16-byte-aligned K/V rows.
template <typename T, int kRows, int kLanes>
__global__ void __launch_bounds__(kDecodeThreads) attentionDecodeKernel(AttentionProblem p, Partials part)
{
    constexpr int kVec = kVecOf<T>;
    constexpr int kGroups = kDecodeThreads / kLanes;
    constexpr int kUnroll = kDecodeUnroll<kRows>;
    constexpr int kWidth = kLanes * kVec;
    __shared__ float groupMax[kGroups][kRows];
    __shared__ float groupSum[kGroups][kRows];
    __shared__ float groupAcc[kGroups][kRows][kWidth];
    int32_t const split = blockIdx.x;
    int32_t const kvHead = blockIdx.y;
    int32_t const b = blockIdx.z;
    int32_t const rows = p.qHeads / p.kvHeads * p.qLen;
    int const group = threadIdx.x / kLanes;
    int const col = threadIdx.x % kLanes * kVec; // this lane's first element of a K/V row
    int32_t lo = 0;
    int32_t hi = 0;
    keyRange(p, b, 0, p.qLen - 1, split, part.splits, lo, hi);
    float const scale = p.scale != 0.F ? p.scale : rsqrtf(static_cast<float>(p.headDim));
    float q[kRows][kVec];
    float acc[kRows][kVec];
    float m[kRows];
    float l[kRows];
    RowPlace places[kRows]; // hoisted: the mask checks need them for every key
#pragma unroll
    for (int r = 0; r < kRows; ++r)
    {
        places[r] = decodeRow(p, b, kvHead, r < rows ? r : 0);
        T const* qRow = static_cast<T const*>(p.q.data) + b * p.q.batchStride + places[r].h * p.q.headStride
            + static_cast<int64_t>(places[r].i) * p.q.seqStride;
#pragma unroll
        for (int e = 0; e < kVec; ++e)
        {
            q[r][e] = r < rows && col + e < p.headDim ? toFloat(qRow[col + e]) * scale : 0.F;
            acc[r][e] = 0.F;
        }
        m[r] = -INFINITY;
        l[r] = 0.F;
    }
    // The trip count is the same for every thread (shuffles need whole warps); keys past hi load
    // as zeros and get -inf logits.
    for (int32_t base = lo; base < hi; base += kGroups * kUnroll)
    {
        uint4 k[kUnroll];
        uint4 v[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            int32_t const j = base + group + u * kGroups;
            k[u] = loadSlice<T>(p.k, b, kvHead, j, hi, col, p.headDim);
            v[u] = loadSlice<T>(p.v, b, kvHead, j, hi, col, p.vHeadDim);
        }
        float s[kUnroll][kRows];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            int32_t const j = base + group + u * kGroups;
            float dots[kRows];
#pragma unroll
            for (int r = 0; r < kRows; ++r)
            {
                float dot = 0.F;
#pragma unroll
                for (int e = 0; e < kVec; ++e)
                {
                    dot += q[r][e] * sliceAt<T>(k[u], e);
                }
#pragma unroll
                for (int o = kLanes / 2; o > 0; o >>= 1) // within the aligned group of kLanes lanes
                {
                    dot += __shfl_xor_sync(0xffffffffU, dot, o);
                }
                dots[r] = dot;
            }
            rowLogits<T, kRows>(p, places, rows, j, hi, dots, s[u]);
        }
        foldKeys<T, kRows, kUnroll>(s, v, m, l, acc);
    }
#pragma unroll
    for (int r = 0; r < kRows; ++r)
    {
        if (col == 0)
        {
            groupMax[group][r] = m[r];
            groupSum[group][r] = l[r];
        }
#pragma unroll
        for (int e = 0; e < kVec; ++e)
        {
            groupAcc[group][r][col + e] = acc[r][e];
        }
    }
    __syncthreads();
    storeMergedRows<T>(p, part, b, kvHead, split, rows, groupMax, groupSum, groupAcc);
}

} // namespace attention
} // namespace trtplug
