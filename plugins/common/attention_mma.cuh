// Tensor-core prefill path of the attention core (fp16/bf16, head sizes 16..128 in steps of 16):
// FlashAttention-2-style tiles of 64 query rows of one head x 64 keys, Q/K/V tiles in shared
// memory, S = Q K^T and O += P V through WMMA with float32 accumulation, the online softmax in
// float32 on the score tile (the same masks, bias, softcap and sink as the generic kernel). The
// output accumulator lives in shared memory (WMMA fragments have no portable row mapping, and
// each tile rescales rows). Included only from attention_core.cu.
#pragma once

#include "common/attention_kernels.cuh"

#include <mma.h>

namespace trtplug
{
namespace attention
{

constexpr int kMmaRows = 64;     //!< query rows per block (16 per warp)
constexpr int kMmaKeys = 64;     //!< keys per tile
constexpr int kMmaWarps = 4;
constexpr int kMmaThreads = kMmaWarps * 32;
constexpr int kMmaMaxDim = 128;

//! Shared-memory bytes of one block for head size `dim` (a multiple of 16).
inline size_t mmaSharedBytes(int dim) noexcept
{
    size_t const tiles = static_cast<size_t>(kMmaRows + 2 * kMmaKeys) * dim * 2; // Q, K, V (16-bit)
    size_t const scores = static_cast<size_t>(kMmaRows) * kMmaKeys * (4 + 2);  // S float, P 16-bit
    size_t const out = static_cast<size_t>(kMmaRows) * dim * 4;                 // O float
    return tiles + scores + out + 2 * kMmaRows * 4;                             // m, l
}

//! Copies `count` rows of `dim` elements (row r of the view at rows first + r) into dst[r][dim];
//! rows past `limit` are zeros. 16-byte loads where the rows allow (dst rows are 32-byte aligned).
template <typename T>
__device__ void loadRows(T* dst, T const* base, int64_t seqStride, int32_t first, int32_t limit, int dim, int count)
{
    constexpr int kVec = 16 / sizeof(T);
    if (vectorRows(base, seqStride, dim))
    {
        int const perRow = dim / kVec;
        for (int idx = threadIdx.x; idx < count * perRow; idx += kMmaThreads)
        {
            int const r = idx / perRow;
            int const d = (idx - r * perRow) * kVec;
            int32_t const row = first + r;
            uint4 raw{0U, 0U, 0U, 0U};
            if (row < limit)
            {
                raw = *reinterpret_cast<uint4 const*>(base + static_cast<int64_t>(row) * seqStride + d);
            }
            *reinterpret_cast<uint4*>(dst + r * dim + d) = raw;
        }
        return;
    }
    T const zero = fromFloat<T>(0.F);
    for (int idx = threadIdx.x; idx < count * dim; idx += kMmaThreads)
    {
        int const r = idx / dim;
        int const d = idx - r * dim;
        int32_t const row = first + r;
        dst[idx] = row < limit ? base[static_cast<int64_t>(row) * seqStride + d] : zero;
    }
}

//! One warp's 16 rows of the score tile: logits, online-softmax update of m/l, P (16-bit) and the
//! rescale of the rows' output accumulator.
template <typename T>
__device__ void softmaxRows(AttentionProblem const& p, RowPlace r0, int32_t rowBase, int32_t tile, int32_t lo,
    int32_t hi, float const* s, T* pTile, float* o, float* m, float* l, int dim)
{
    int const lane = threadIdx.x % 32;
    int const warpRow = (threadIdx.x / 32) * 16;
    for (int rr = warpRow; rr < warpRow + 16; ++rr)
    {
        RowPlace r = r0;
        r.i = rowBase + rr;
        r.position += rr;
        bool const live = r.i < p.qLen;
        float v[2];
        float tileMax = -INFINITY;
#pragma unroll
        for (int c = 0; c < 2; ++c)
        {
            int const key = lane + 32 * c;
            int32_t const j = tile + key;
            v[c] = live && j >= lo && j < hi ? logit<T>(p, r, j, s[rr * kMmaKeys + key]) : -INFINITY;
            tileMax = fmaxf(tileMax, v[c]);
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1)
        {
            tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffU, tileMax, off));
        }
        float const mOld = m[rr];
        float const mNew = fmaxf(mOld, tileMax);
        float const alpha = mOld == -INFINITY ? (mNew == -INFINITY ? 1.F : 0.F) : __expf(mOld - mNew);
        float sum = 0.F;
#pragma unroll
        for (int c = 0; c < 2; ++c)
        {
            float const w = v[c] == -INFINITY ? 0.F : __expf(v[c] - mNew);
            sum += w;
            pTile[rr * kMmaKeys + lane + 32 * c] = fromFloat<T>(w);
        }
        sum = warpSum(sum);
        for (int d = lane; d < dim; d += 32)
        {
            o[rr * dim + d] *= alpha;
        }
        if (lane == 0)
        {
            m[rr] = mNew;
            l[rr] = l[rr] * alpha + sum;
        }
    }
}

//! grid (ceil(qLen / 64), qHeads, batch), kMmaThreads threads, mmaSharedBytes(dim) dynamic smem.
//! Needs headDim == vHeadDim, a multiple of 16, <= kMmaMaxDim; T = __half or __nv_bfloat16.
template <typename T>
__global__ void __launch_bounds__(kMmaThreads) attentionMmaKernel(AttentionProblem p)
{
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    namespace wmma = nvcuda::wmma;
    extern __shared__ __align__(128) unsigned char smem[];
    int const dim = p.headDim;
    T* qTile = reinterpret_cast<T*>(smem);
    T* kTileS = qTile + kMmaRows * dim;
    T* vTileS = kTileS + kMmaKeys * dim;
    float* sTile = reinterpret_cast<float*>(vTileS + kMmaKeys * dim);
    T* pTile = reinterpret_cast<T*>(sTile + kMmaRows * kMmaKeys);
    float* oTile = reinterpret_cast<float*>(pTile + kMmaRows * kMmaKeys);
    float* mRow = oTile + kMmaRows * dim;
    float* lRow = mRow + kMmaRows;
    int32_t const b = blockIdx.z;
    int32_t const h = blockIdx.y;
    int32_t const kvHead = h / (p.qHeads / p.kvHeads);
    int32_t const rowBase = blockIdx.x * kMmaRows;
    int const warp = threadIdx.x / 32;
    RowPlace const r0{b, h, rowBase, rowStart(p, b) + rowBase, validKeys(p, b)};
    int32_t lo = 0;
    int32_t hi = 0;
    keyRange(p, b, rowBase, min(p.qLen, rowBase + kMmaRows) - 1, 0, 1, lo, hi);
    float const scale = p.scale != 0.F ? p.scale : rsqrtf(static_cast<float>(dim));
    loadRows(qTile, static_cast<T const*>(p.q.data) + b * p.q.batchStride + h * p.q.headStride, p.q.seqStride,
        rowBase, p.qLen, dim, kMmaRows);
    for (int idx = threadIdx.x; idx < kMmaRows * dim; idx += kMmaThreads)
    {
        oTile[idx] = 0.F;
    }
    for (int idx = threadIdx.x; idx < kMmaRows; idx += kMmaThreads)
    {
        mRow[idx] = -INFINITY;
        lRow[idx] = 0.F;
    }
    T const* kBase = static_cast<T const*>(p.k.data) + b * p.k.batchStride + kvHead * p.k.headStride;
    T const* vBase = static_cast<T const*>(p.v.data) + b * p.v.batchStride + kvHead * p.v.headStride;
    for (int32_t tile = lo / kMmaKeys * kMmaKeys; tile < hi; tile += kMmaKeys)
    {
        __syncthreads();
        loadRows(kTileS, kBase, p.k.seqStride, tile, hi, dim, kMmaKeys);
        loadRows(vTileS, vBase, p.v.seqStride, tile, hi, dim, kMmaKeys);
        __syncthreads();
        // S[warp's 16 rows][64 keys] = Q K^T (scaled after, in float32).
        for (int n = 0; n < kMmaKeys / 16; ++n)
        {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.F);
            for (int kk = 0; kk < dim; kk += 16)
            {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bf;
                wmma::load_matrix_sync(a, qTile + warp * 16 * dim + kk, dim);
                wmma::load_matrix_sync(bf, kTileS + n * 16 * dim + kk, dim);
                wmma::mma_sync(acc, a, bf, acc);
            }
            for (int e = 0; e < acc.num_elements; ++e)
            {
                acc.x[e] *= scale;
            }
            wmma::store_matrix_sync(sTile + warp * 16 * kMmaKeys + n * 16, acc, kMmaKeys, wmma::mem_row_major);
        }
        __syncwarp();
        softmaxRows<T>(p, r0, rowBase, tile, lo, hi, sTile, pTile, oTile, mRow, lRow, dim);
        __syncwarp();
        // O[warp's 16 rows][dim] += P V.
        for (int n = 0; n < dim / 16; ++n)
        {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            float* oBlock = oTile + warp * 16 * dim + n * 16;
            wmma::load_matrix_sync(acc, oBlock, dim, wmma::mem_row_major);
            for (int kk = 0; kk < kMmaKeys; kk += 16)
            {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> bf;
                wmma::load_matrix_sync(a, pTile + warp * 16 * kMmaKeys + kk, kMmaKeys);
                wmma::load_matrix_sync(bf, vTileS + kk * dim + n * 16, dim);
                wmma::mma_sync(acc, a, bf, acc);
            }
            wmma::store_matrix_sync(oBlock, acc, dim, wmma::mem_row_major);
        }
    }
    __syncthreads();
    // Each warp writes its rows: out = O / l, merged with the sink (writeRow's rules).
    int const lane = threadIdx.x % 32;
    for (int rr = warp * 16; rr < warp * 16 + 16; ++rr)
    {
        RowPlace r = r0;
        r.i = rowBase + rr;
        if (r.i >= p.qLen)
        {
            break;
        }
        float acc[kMmaMaxDim / 32];
#pragma unroll
        for (int k = 0; k < kMmaMaxDim / 32; ++k)
        {
            int const d = lane + 32 * k;
            acc[k] = d < dim ? oTile[rr * dim + d] : 0.F;
        }
        writeRow<T, kMmaMaxDim / 32>(p, r, mRow[rr], lRow[rr], acc);
    }
#endif
}

} // namespace attention
} // namespace trtplug
