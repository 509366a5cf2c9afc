// Kernels of the attention core (attention_core.h): a tiled online-softmax kernel over K/V tiles
// in shared memory, one warp per query row, the query heads of one KV head in one block (GQA:
// a K/V tile is read once for the whole group); the split-KV combine is attention_combine.cuh.
// Included only from attention_core.cu.
#pragma once

#include "common/attention_core.h"
#include "common/launch.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace trtplug
{
namespace attention
{

constexpr int kWarps = 8;       //!< query rows per block
constexpr int kThreads = kWarps * 32;
constexpr int kKeyTile = 32;    //!< split-KV chunks are multiples of this (every tile size divides it)

//! Keys per shared-memory tile: K and V tiles of T fill 32 KB (static shared memory stays < 48 KB).
template <typename T>
constexpr int kTileKeys = sizeof(T) == 2 ? 32 : 16;
constexpr int kMaxDim = 256;
constexpr int32_t kMaxSplits = 64; //!< key splits of one row tile at most (the combine reads two per lane)

//! Query rows that read one KV head's keys: the GQA group's heads times the query length.
inline int64_t rowsPerKvHead(AttentionProblem const& p) noexcept
{
    return static_cast<int64_t>(p.qHeads / p.kvHeads) * p.qLen;
}

//! Where a split writes its partial softmax state: per (batch, qHead, qRow, split) the running
//! max m, the sum l and the unnormalised output acc[vHeadDim], all float32.
struct Partials
{
    float* stats{nullptr}; //!< [rows, splits, 2]
    float* acc{nullptr};   //!< [rows, splits, vHeadDim]
    int32_t splits{1};
    //! [batch, kvHeads] splits done, zero at launch: the tensor-core decode's last block of a group
    //! merges its partials (null: attentionCombineKernel does).
    unsigned int* counters{nullptr};
};

//! Keys per split: an equal share of kvLen rounded up to whole tiles of `tile` keys; split s takes
//! [s * chunk, (s + 1) * chunk). Host and device: tests/attention_combine_emulation.cu plans with it.
__host__ __device__ inline int32_t splitChunk(int32_t kvLen, int32_t splits, int32_t tile)
{
    return ((kvLen + splits - 1) / splits + tile - 1) / tile * tile;
}

//! Query row (b, h, i) in [batch, qHeads, qLen] order: the index of the combine's rows.
__host__ __device__ inline int64_t queryRowIndex(AttentionProblem const& p, int32_t b, int32_t h, int32_t i)
{
    return (static_cast<int64_t>(b) * p.qHeads + h) * p.qLen + i;
}

//! Row r of the rows that read KV head kvHead (rowsPerKvHead of them, the group's heads first):
//! its query head h and query row i.
__host__ __device__ inline void groupRowPlace(AttentionProblem const& p, int32_t kvHead, int32_t r, int32_t& h, int32_t& i)
{
    int32_t const group = p.qHeads / p.kvHeads;
    h = kvHead * group + r % group;
    i = r / group;
}

//! Where split `split` of query row `row` keeps its partial: statistics at 2 * slot, the
//! accumulator at slot * vHeadDim (the splits of a row side by side).
__host__ __device__ inline int64_t partialSlot(int64_t row, int32_t splits, int32_t split)
{
    return row * splits + split;
}

//! A query row's place: batch b, query head h, row i; its key position and valid key count.
struct RowPlace
{
    int32_t b, h, i, position, valid;
};

__device__ __forceinline__ int32_t validKeys(AttentionProblem const& p, int32_t b)
{
    int32_t const v = p.kvValid ? p.kvValid[b] : p.kvLen;
    return v < 0 ? 0 : (v > p.kvLen ? p.kvLen : v);
}

__device__ __forceinline__ int32_t rowStart(AttentionProblem const& p, int32_t b)
{
    return p.qStart ? p.qStart[b] : (p.kvValid ? p.kvValid[b] : p.kvLen) - p.qLen;
}

__device__ __forceinline__ bool keyMasked(AttentionProblem const& p, RowPlace const& r, int32_t j)
{
    if (j >= r.valid || (p.causal && j > r.position) || (p.windowLeft >= 0 && j < r.position - p.windowLeft))
    {
        return true;
    }
    if (p.mask.data)
    {
        auto const* m = static_cast<uint8_t const*>(p.mask.data);
        return m[r.b * p.mask.batchStride + r.h * p.mask.headStride + r.i * p.mask.rowStride + j] == 0;
    }
    return false;
}

template <typename T>
__device__ __forceinline__ float biasAt(AttentionProblem const& p, RowPlace const& r, int32_t j)
{
    int64_t const at = r.b * p.bias.batchStride + r.h * p.bias.headStride + r.i * p.bias.rowStride + j;
    return p.bias.dtype == DType::kFLOAT32 ? static_cast<float const*>(p.bias.data)[at]
                                           : toFloat(static_cast<T const*>(p.bias.data)[at]);
}

//! The logit of key j for a row whose query.key dot product (already times scale) is `s`.
template <typename T>
__device__ __forceinline__ float logit(AttentionProblem const& p, RowPlace const& r, int32_t j, float s)
{
    if (keyMasked(p, r, j))
    {
        return -INFINITY;
    }
    bool const cap = p.softcap > 0.F;
    if (cap && !p.softcapAfterBias)
    {
        s = p.softcap * tanhf(s / p.softcap);
    }
    if (p.bias.data)
    {
        s += biasAt<T>(p, r, j);
    }
    if (cap && p.softcapAfterBias)
    {
        s = p.softcap * tanhf(s / p.softcap);
    }
    return s;
}

__device__ __forceinline__ float warpSum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
    {
        v += __shfl_xor_sync(0xffffffffU, v, o);
    }
    return v;
}

//! The sink logit of head h: head_sink[h], 0 for smooth softmax, -inf when neither.
template <typename T>
__device__ __forceinline__ float sinkLogit(AttentionProblem const& p, int32_t h)
{
    if (p.headSink)
    {
        return toFloat(static_cast<T const*>(p.headSink)[h]);
    }
    return p.smoothSoftmax ? 0.F : -INFINITY;
}

//! How a row's unnormalised output becomes the output: out = empty ? fill : acc * inv.
struct RowScale
{
    float inv;
    bool empty;
};

//! acc / l merged with head h's sink logit; a row with nothing to attend to is `empty`.
template <typename T>
__device__ __forceinline__ RowScale rowScale(AttentionProblem const& p, int32_t h, float m, float l)
{
    float const sink = sinkLogit<T>(p, h);
    float const top = fmaxf(m, sink);
    float scaleAcc = 0.F;
    float total = 0.F;
    if (top != -INFINITY)
    {
        scaleAcc = m == -INFINITY ? 0.F : __expf(m - top);
        total = l * scaleAcc + (sink == -INFINITY ? 0.F : __expf(sink - top));
    }
    bool const empty = !(total > 0.F);
    return RowScale{empty ? 0.F : scaleAcc / total, empty};
}

//! out = acc / l, merged with the sink logit; a row with nothing to attend to gives zeros or NaN.
template <typename T, int kPer>
__device__ void writeRow(AttentionProblem const& p, RowPlace const& r, float m, float l, float const (&acc)[kPer])
{
    RowScale const rs = rowScale<T>(p, r.h, m, l);
    bool const empty = rs.empty;
    float const inv = rs.inv;
    float const fill = p.zeroFullyMaskedRows ? 0.F : NAN;
    T* out = static_cast<T*>(p.out.data) + r.b * p.out.batchStride + r.h * p.out.headStride + r.i * p.out.seqStride;
#pragma unroll
    for (int k = 0; k < kPer; ++k)
    {
        int const d = threadIdx.x % 32 + 32 * k;
        if (d < p.vHeadDim)
        {
            out[d] = fromFloat<T>(empty ? fill : acc[k] * inv);
        }
    }
}

//! Keys [lo, hi) that any row of this block may attend to (causal and window bounds), clipped to
//! this split's share; lo >= hi when none.
__device__ __forceinline__ void keyRange(AttentionProblem const& p, int32_t b, int32_t iFirst, int32_t iLast,
    int32_t split, int32_t splits, int32_t& lo, int32_t& hi)
{
    int32_t const start = rowStart(p, b);
    hi = validKeys(p, b);
    if (p.causal)
    {
        hi = min(hi, max(0, start + iLast + 1));
    }
    lo = p.windowLeft >= 0 ? max(0, start + iFirst - p.windowLeft) : 0;
    int32_t const chunk = splitChunk(p.kvLen, splits, kKeyTile);
    lo = max(lo, split * chunk);
    hi = min(hi, (split + 1) * chunk);
}

//! Whether rows of `dim` elements at `base` + j * seqStride can be read in 16-byte vectors.
template <typename T>
__device__ __forceinline__ bool vectorRows(T const* base, int64_t seqStride, int32_t dim)
{
    constexpr int kVec = 16 / sizeof(T);
    return dim % kVec == 0 && seqStride % kVec == 0 && reinterpret_cast<uintptr_t>(base) % 16 == 0;
}

//! Copies keys [tile, tile + kTileKeys<T>) of (b, kvHead) into shared memory, the first `width`
//! (>= dim, a multiple of 32) columns, zeros past hi and past dim (lanes past headDim multiply
//! them); 16-byte loads where the rows allow.
template <typename T>
__device__ void loadTile(HeadView const& view, int32_t dim, int32_t width, int32_t b, int32_t kvHead, int32_t tile,
    int32_t hi, T (*dst)[kMaxDim])
{
    constexpr int kVec = 16 / sizeof(T);
    constexpr int kKeys = kTileKeys<T>;
    T const* base = static_cast<T const*>(view.data) + b * view.batchStride + kvHead * view.headStride;
    if (vectorRows(base, view.seqStride, dim))
    {
        int const perRow = width / kVec;
        for (int idx = threadIdx.x; idx < kKeys * perRow; idx += kThreads)
        {
            int const key = idx / perRow;
            int const d = (idx - key * perRow) * kVec;
            int32_t const j = tile + key;
            uint4 raw{0U, 0U, 0U, 0U}; // all-zero bits: 0 in every float type
            if (j < hi && d < dim)
            {
                raw = *reinterpret_cast<uint4 const*>(base + static_cast<int64_t>(j) * view.seqStride + d);
            }
            *reinterpret_cast<uint4*>(&dst[key][d]) = raw;
        }
        return;
    }
    T const zero = fromFloat<T>(0.F);
    for (int idx = threadIdx.x; idx < kKeys * width; idx += kThreads)
    {
        int const key = idx / width;
        int const d = idx - key * width;
        int32_t const j = tile + key;
        dst[key][d] = j < hi && d < dim ? base[static_cast<int64_t>(j) * view.seqStride + d] : zero;
    }
}

//! One block: up to kWarps query rows (the heads of one KV head's group, then rows) x one split
//! of the keys. grid (rowTiles * splits, kvHeads, batch). kPer = dims per lane (kMaxDim / 32 max).
template <typename T, int kPer>
__global__ void __launch_bounds__(kThreads) attentionTileKernel(AttentionProblem p, Partials part)
{
    constexpr int kKeys = kTileKeys<T>;
    __shared__ __align__(16) T kTile[kKeys][kMaxDim];
    __shared__ __align__(16) T vTile[kKeys][kMaxDim];
    int32_t const group = p.qHeads / p.kvHeads;
    int32_t const split = blockIdx.x % part.splits;
    int32_t const rowBase = (blockIdx.x / part.splits) * kWarps;
    int32_t const rows = group * p.qLen;
    int32_t const kvHead = blockIdx.y;
    int32_t const b = blockIdx.z;
    int const warp = threadIdx.x / 32;
    int const lane = threadIdx.x % 32;
    int32_t const rowId = rowBase + warp;
    bool const active = rowId < rows;
    RowPlace r{b, kvHead * group + rowId % group, rowId / group, 0, validKeys(p, b)};
    r.position = rowStart(p, b) + r.i;
    int32_t const iFirst = rowBase / group;
    int32_t const iLast = min(rows - 1, rowBase + kWarps - 1) / group;
    int32_t lo = 0;
    int32_t hi = 0;
    keyRange(p, b, iFirst, iLast, split, part.splits, lo, hi);
    float const scale = p.scale != 0.F ? p.scale : rsqrtf(static_cast<float>(p.headDim));
    float q[kPer];
    float acc[kPer];
    T const* qRow = static_cast<T const*>(p.q.data) + b * p.q.batchStride + r.h * p.q.headStride
        + static_cast<int64_t>(active ? r.i : 0) * p.q.seqStride;
#pragma unroll
    for (int k = 0; k < kPer; ++k)
    {
        int const d = lane + 32 * k;
        q[k] = active && d < p.headDim ? toFloat(qRow[d]) * scale : 0.F;
        acc[k] = 0.F;
    }
    float m = -INFINITY;
    float l = 0.F;
    for (int32_t tile = lo / kKeys * kKeys; tile < hi; tile += kKeys)
    {
        __syncthreads();
        loadTile<T>(p.k, p.headDim, 32 * kPer, b, kvHead, tile, hi, kTile);
        loadTile<T>(p.v, p.vHeadDim, 32 * kPer, b, kvHead, tile, hi, vTile);
        __syncthreads();
        if (!active)
        {
            continue;
        }
        float s[kKeys];
        float tileMax = -INFINITY;
#pragma unroll
        for (int key = 0; key < kKeys; ++key)
        {
            float dot = 0.F;
#pragma unroll
            for (int k = 0; k < kPer; ++k)
            {
                dot += q[k] * toFloat(kTile[key][lane + 32 * k]);
            }
            dot = warpSum(dot);
            int32_t const j = tile + key;
            s[key] = j >= lo && j < hi ? logit<T>(p, r, j, dot) : -INFINITY;
            tileMax = fmaxf(tileMax, s[key]);
        }
        float const mNew = fmaxf(m, tileMax);
        if (mNew == -INFINITY)
        {
            continue;
        }
        float const alpha = m == -INFINITY ? 0.F : __expf(m - mNew);
        l *= alpha;
#pragma unroll
        for (int k = 0; k < kPer; ++k)
        {
            acc[k] *= alpha;
        }
#pragma unroll
        for (int key = 0; key < kKeys; ++key)
        {
            float const w = s[key] == -INFINITY ? 0.F : __expf(s[key] - mNew);
            l += w;
#pragma unroll
            for (int k = 0; k < kPer; ++k)
            {
                acc[k] += w * toFloat(vTile[key][lane + 32 * k]);
            }
        }
        m = mNew;
    }
    if (!active)
    {
        return;
    }
    if (part.splits == 1)
    {
        writeRow<T, kPer>(p, r, m, l, acc);
        return;
    }
    int64_t const slot = partialSlot(queryRowIndex(p, b, r.h, r.i), part.splits, split);
    if (lane == 0)
    {
        part.stats[2 * slot] = m;
        part.stats[2 * slot + 1] = l;
    }
#pragma unroll
    for (int k = 0; k < kPer; ++k)
    {
        int const d = lane + 32 * k;
        if (d < p.vHeadDim)
        {
            part.acc[slot * p.vHeadDim + d] = acc[k];
        }
    }
}

} // namespace attention
} // namespace trtplug
