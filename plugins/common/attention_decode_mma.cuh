// The tensor-core decode kernel of the attention core (attention_core.h): the few query rows of
// one KV head (a GQA group times a short chunk: at most kDecodeMaxRows) padded to one 16-row mma
// tile, long caches. attention_decode.cuh's key-parallel kernel spends ~60 scalar instructions and
// 16 shuffles per key and lane (dots over 16-byte slices, per-row reductions, per-key exponentials)
// and reached ~20% of copy bandwidth on the H200. Here the block's 4 warps share 64-key K/V tiles
// that cp.async double-buffers in shared memory (the next tile's 32 KB in flight while this one is
// used); each warp takes 16 keys of a tile: S = Q K^T and O += P V as mma.sync m16n8k16 (32 mma a
// tile), the online softmax on the fragments, with the prefill's helpers (attention_flash.cuh).
// The warps' states merge through shared memory; the splits in the last block of the group to
// finish (attention_combine.cuh), or in attentionCombineKernel when part.counters is null.
// Included only from attention_core.cu.
#pragma once

#include "common/attention_combine.cuh"
#include "common/attention_decode.cuh"
#include "common/attention_flash.cuh"

#include <cstdint>

namespace trtplug
{
namespace attention
{

constexpr int kDecodeMmaWarps = kFlashThreads / 32; //!< warps sharing a 64-key tile, 16 keys each
constexpr int kDecodeMmaRows = 16;                  //!< the padded query tile (rows >= kDecodeMaxRows are zeros)
static_assert(kDecodeMaxRows <= 8, "the real rows are fragment rows g (0..7); rows g + 8 are padding");
static_assert(kFlashKeys == 16 * kDecodeMmaWarps, "each warp takes 16 keys of a tile");

template <int kD>
constexpr size_t decodeMmaSharedBytes()
{
    return static_cast<size_t>(kDecodeMmaRows + 4 * kFlashKeys) * kFlashStride<kD> * 2; // Q, 2 x K, 2 x V
}

//! Split `split`'s keys [lo, hi) for this block's rows, the split boundaries on 64-key tiles (every
//! tile then belongs to one split; keys below lo in the first tile are window-masked for every row).
__device__ __forceinline__ void decodeMmaKeyRange(
    AttentionProblem const& p, int32_t b, int32_t split, int32_t splits, int32_t& lo, int32_t& hi)
{
    keyRange(p, b, 0, p.qLen - 1, 0, 1, lo, hi);
    int32_t const chunk = splitChunk(p.kvLen, splits, kFlashKeys);
    lo = max(lo, split * chunk);
    hi = min(hi, (split + 1) * chunk);
}

//! Starts copying the query rows of (b, kvHead) into the padded 16-row tile: row r is query head
//! kvHead * group + r % group, row r / group (decodeRow); rows past `rows` are zeros.
template <typename T, int kD>
__device__ __forceinline__ void copyDecodeQueries(AttentionProblem const& p, int32_t b, int32_t kvHead, int32_t rows, T* tile)
{
    constexpr int kChunks = kD / 8;
    for (int idx = threadIdx.x; idx < kDecodeMmaRows * kChunks; idx += kFlashThreads)
    {
        int const r = idx / kChunks;
        int const c = (idx - r * kChunks) * 8;
        RowPlace const place = decodeRow(p, b, kvHead, r < rows ? r : 0);
        T const* src = static_cast<T const*>(p.q.data) + b * p.q.batchStride + place.h * p.q.headStride
            + static_cast<int64_t>(place.i) * p.q.seqStride + c;
        copyAsync16(tile + r * kFlashStride<kD> + c, src, r < rows ? 16 : 0);
    }
}

//! Where a block's keys come from: the problem's k/v (present), except keys below `rows` (the
//! PastCopy rows within this split), read from the past buffers and written back into present.
template <typename T>
struct DecodeSources
{
    T const* k;
    T const* v;
    T const* pastK;
    T const* pastV;
    int32_t rows; //!< 0: no past copy
};

template <typename T>
__device__ __forceinline__ DecodeSources<T> decodeSources(AttentionProblem const& p, int32_t b, int32_t kvHead, int32_t hi)
{
    DecodeSources<T> s{};
    s.k = static_cast<T const*>(p.k.data) + b * p.k.batchStride + kvHead * p.k.headStride;
    s.v = static_cast<T const*>(p.v.data) + b * p.v.batchStride + kvHead * p.v.headStride;
    if (p.past.rows != nullptr)
    {
        s.pastK = static_cast<T const*>(p.past.k.data) + b * p.past.k.batchStride + kvHead * p.past.k.headStride;
        s.pastV = static_cast<T const*>(p.past.v.data) + b * p.past.v.batchStride + kvHead * p.past.v.headStride;
        s.rows = min(p.past.rows[b], hi); // rows at or past hi are the next split's (or zeros)
    }
    return s;
}

//! Starts copying the 64 keys from `first` (zeros from `limit` on) into a padded shared tile: rows
//! below pastRows from `past`, the others from `present` (copyTile with two sources).
template <typename T, int kD>
__device__ __forceinline__ void copyKeyTile(T* tile, T const* present, int64_t seqStride, T const* past,
    int64_t pastSeqStride, int32_t pastRows, int32_t first, int32_t limit)
{
    constexpr int kChunks = kD / 8;
    for (int idx = threadIdx.x; idx < kFlashKeys * kChunks; idx += kFlashThreads)
    {
        int const r = idx / kChunks;
        int const c = (idx - r * kChunks) * 8;
        int32_t const row = first + r;
        T const* src = row >= limit ? present
            : row < pastRows        ? past + static_cast<int64_t>(row) * pastSeqStride + c
                                    : present + static_cast<int64_t>(row) * seqStride + c;
        copyAsync16(tile + r * kFlashStride<kD> + c, src, row < limit ? 16 : 0);
    }
}

//! The landed tile's rows [first, pastRows) (at most 64) into present: the past copy, 16 bytes
//! per thread and store.
template <typename T, int kD>
__device__ __forceinline__ void storePastRows(T const* tile, T const* present, int64_t seqStride, int32_t first, int32_t pastRows)
{
    constexpr int kChunks = kD / 8;
    int const rows = min(kFlashKeys, pastRows - first);
    auto* out = const_cast<T*>(present); // PastCopy: the problem's k/v are present, an output
    for (int idx = threadIdx.x; idx < rows * kChunks; idx += kFlashThreads)
    {
        int const r = idx / kChunks;
        int const c = (idx - r * kChunks) * 8;
        *reinterpret_cast<uint4*>(out + static_cast<int64_t>(first + r) * seqStride + c)
            = *reinterpret_cast<uint4 const*>(tile + r * kFlashStride<kD> + c);
    }
}

//! grid (splits, kvHeads, batch), kFlashThreads threads, decodeMmaSharedBytes<kD>() dynamic shared
//! memory. Needs T = __half or __nv_bfloat16, headDim == vHeadDim == kD, rows <= kDecodeMaxRows,
//! no mask or bias tensor, 16-byte-aligned rows of Q, K and V (flashApplies).
template <typename T, int kD>
__global__ void __launch_bounds__(kFlashThreads, 3) attentionDecodeMmaKernel(AttentionProblem p, Partials part)
{
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    extern __shared__ __align__(128) unsigned char decodeSmem[];
    T* qTile = reinterpret_cast<T*>(decodeSmem);
    T* keyTiles = qTile + kDecodeMmaRows * kFlashStride<kD>;
    T* valueTiles = keyTiles + 2 * kFlashKeys * kFlashStride<kD>;
    int32_t const split = blockIdx.x;
    int32_t const kvHead = blockIdx.y;
    int32_t const b = blockIdx.z;
    int32_t const rows = p.qHeads / p.kvHeads * p.qLen;
    int const warp = threadIdx.x / 32;
    int const lane = threadIdx.x % 32;
    int32_t lo = 0;
    int32_t hi = 0;
    decodeMmaKeyRange(p, b, split, part.splits, lo, hi);
    int32_t const valid = min(validKeys(p, b), hi);
    RowPlace const mine = decodeRow(p, b, kvHead, lane / 4 < rows ? lane / 4 : 0);
    int32_t const pos[2] = {mine.position, mine.position}; // rows g + 8 are padding: any position
    float const scale = p.scale != 0.F ? p.scale : rsqrtf(static_cast<float>(kD));
    DecodeSources<T> const src = decodeSources<T>(p, b, kvHead, hi);
    auto const load = [&](int32_t first, int offset) {
        copyKeyTile<T, kD>(keyTiles + offset, src.k, p.k.seqStride, src.pastK, p.past.k.seqStride, src.rows, first, hi);
        copyKeyTile<T, kD>(valueTiles + offset, src.v, p.v.seqStride, src.pastV, p.past.v.seqStride, src.rows, first, hi);
    };
    int32_t tile = lo / kFlashKeys * kFlashKeys;
    copyDecodeQueries<T, kD>(p, b, kvHead, rows, qTile);
    load(tile, 0);
    commitCopies();
    waitCopies();
    __syncthreads();
    uint32_t q[kD / 16][4];
#pragma unroll
    for (int kk = 0; kk < kD / 16; ++kk) // every warp holds the same 16 query rows
    {
        int const row = lane % 8 + ((lane / 8) % 2) * 8;
        loadMatrices(q[kk], qTile + row * kFlashStride<kD> + 16 * kk + (lane / 16) * 8);
    }
    float o[kD / 8][4] = {};
    float m[2] = {-INFINITY, -INFINITY};
    float l[2] = {0.F, 0.F};
    int const ownKeys = 16 * warp * kFlashStride<kD>; // this warp's 16 keys of every tile
    forEachKeyTile<kD>(tile, hi, load, [&](int32_t keys, int offset) {
        if (keys < src.rows) // block-uniform: the past copy of this tile's rows
        {
            storePastRows<T, kD>(keyTiles + offset, src.k, p.k.seqStride, keys, src.rows);
            storePastRows<T, kD>(valueTiles + offset, src.v, p.v.seqStride, keys, src.rows);
        }
        float s[2][4];
        scoreTile<T, kD, 2>(p, q, keyTiles + offset + ownKeys, keys + 16 * warp, pos, valid, scale, s);
        softmaxStep<kD, 2>(s, m, l, o);
        accumulateTile<T, kD, 2>(s, valueTiles + offset + ownKeys, o);
    });
    // The warps' states of the real rows (fragment rows g = lane / 4) into shared memory, over the
    // K/V tiles (every warp is past its last read of them: the loop ends on a barrier).
    auto& warpMax = *reinterpret_cast<float(*)[kDecodeMmaWarps][kDecodeMaxRows]>(keyTiles);
    auto& warpSum = *reinterpret_cast<float(*)[kDecodeMmaWarps][kDecodeMaxRows]>(&warpMax[kDecodeMmaWarps]);
    auto& warpAcc = *reinterpret_cast<float(*)[kDecodeMmaWarps][kDecodeMaxRows][kD]>(&warpSum[kDecodeMmaWarps]);
    l[0] += __shfl_xor_sync(0xffffffffU, l[0], 1); // the quad holding a row adds its column sums
    l[0] += __shfl_xor_sync(0xffffffffU, l[0], 2);
    int const r = lane / 4;
    if (r < rows)
    {
        if (lane % 4 == 0)
        {
            warpMax[warp][r] = m[0];
            warpSum[warp][r] = l[0];
        }
#pragma unroll
        for (int n = 0; n < kD / 8; ++n)
        {
            int const d = 8 * n + 2 * (lane % 4);
            warpAcc[warp][r][d] = o[n][0];
            warpAcc[warp][r][d + 1] = o[n][1];
        }
    }
    __syncthreads();
    storeMergedRows<T>(p, part, b, kvHead, split, rows, warpMax, warpSum, warpAcc);
    if (part.counters != nullptr) // splits > 1: the partials are merged here, no combine launch
    {
        combineGroupWhenLast<T, kD / 32>(p, part, b, kvHead, rows);
    }
#endif
}

} // namespace attention
} // namespace trtplug
