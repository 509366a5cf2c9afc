// MoE's grouped gather-GEMM: C[row, n] = sum_k A[a_row(row), k] * B[e][n, k] (+ bias[e][n]) for the
// grouped rows of every expert e, in one launch, with the per-expert row counts on the device
// (no host round trip, so the launch is graph-capturable). Block x is one tile of BM rows of one
// expert (tileStart, a scan of ceil(count / BM), says which; blocks past the last tile leave),
// block y 64 columns. A's row is either the grouped row itself or the token of its route (the
// gather of fc1's input). float32 accumulation on CUDA cores; 256 threads, each TM x 4 outputs.
// Included only from the pipeline (moe_pipeline.cuh).
#pragma once

#include "common/launch.cuh"
#include "moe/moe_weights.cuh"

#include <cstdint>

namespace trtplug
{
namespace moe_detail
{

constexpr int32_t kGemmCols = 64;   // BN
constexpr int32_t kGemmDepth = 32;  // BK
constexpr int32_t kGemmThreads = 256;

//! A and bias of type TA; B read through W (moe_weights.cuh: dense or quantized).
template <typename TA, typename W>
struct GroupedGemmArgs
{
    TA const* a;
    int64_t lda;
    int32_t const* rowRoute; //!< null: A's row is the grouped row; else A's row is rowRoute[row] / k
    int32_t k;
    W b;                     //!< [experts, n, depth]
    TA const* bias;          //!< [experts, n] or null
    float* c;                //!< [grouped rows, n]
    int64_t n;
    int64_t depth;
    int32_t const* rowStart;  //!< [experts + 1]
    int32_t const* tileStart; //!< [experts + 1]
    int32_t experts;
};

//! The expert whose tiles include `tile`: the last e with tileStart[e] <= tile (experts without
//! rows have no tiles, so the one found owns it).
__device__ __forceinline__ int32_t expertOfTile(int32_t const* tileStart, int32_t experts, int32_t tile)
{
    int32_t lo = 0;
    int32_t hi = experts - 1;
    while (lo < hi)
    {
        int32_t const mid = (lo + hi + 1) / 2;
        if (tileStart[mid] <= tile)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

//! One row tile of one expert: which expert, its grouped rows [row0, rowEnd), A's row offset per
//! tile row in `aRow` (-1 past the expert's rows). False for blocks past the last tile (they leave).
template <typename TA, typename W, int32_t BM>
__device__ __forceinline__ bool tileRows(GroupedGemmArgs<TA, W> const& g, int32_t threads, int32_t& e,
    int64_t& row0, int64_t& rowEnd, int64_t* aRow)
{
    int32_t const tile = static_cast<int32_t>(blockIdx.x);
    if (tile >= g.tileStart[g.experts])
        return false;
    e = expertOfTile(g.tileStart, g.experts, tile);
    row0 = g.rowStart[e] + int64_t{tile - g.tileStart[e]} * BM;
    rowEnd = g.rowStart[e + 1];
    for (int32_t r = static_cast<int32_t>(threadIdx.x); r < BM; r += threads)
    {
        int64_t const row = row0 + r;
        int64_t const src = g.rowRoute != nullptr && row < rowEnd ? g.rowRoute[row] / g.k : row;
        aRow[r] = row < rowEnd ? src * g.lda : -1;
    }
    return true;
}

//! B's kGemmDepth x kGemmCols tile at depth k0 (columns n0.., weight rows bRow0..) into shared `bs`
//! as float, zeros past n and depth; 8 values per load where the weights allow it.
template <typename TA, typename W>
__device__ __forceinline__ void loadB(GroupedGemmArgs<TA, W> const& g, int64_t bRow0, int64_t n0, int64_t k0,
    bool vectors, float (&bs)[kGemmDepth][kGemmCols + 1])
{
    int32_t const tid = static_cast<int32_t>(threadIdx.x);
    if (vectors)
    {
        for (int32_t i = tid; i < kGemmCols * kGemmDepth / 8; i += kGemmThreads)
        {
            int32_t const c = i / (kGemmDepth / 8);
            int32_t const kk = (i % (kGemmDepth / 8)) * 8;
            float v[8] = {};
            if (n0 + c < g.n && k0 + kk < g.depth)
                g.b.load8(bRow0 + c, k0 + kk, v);
#pragma unroll
            for (int32_t j = 0; j < 8; ++j)
                bs[kk + j][c] = v[j];
        }
        return;
    }
    for (int32_t i = tid; i < kGemmCols * kGemmDepth; i += kGemmThreads)
    {
        int32_t const c = i / kGemmDepth;
        int32_t const kk = i % kGemmDepth;
        bool const in = n0 + c < g.n && k0 + kk < g.depth;
        bs[kk][c] = in ? g.b.at(bRow0 + c, k0 + kk) : 0.f;
    }
}

template <typename TA, typename W, int32_t BM>
__global__ void __launch_bounds__(kGemmThreads) groupedGemmKernel(GroupedGemmArgs<TA, W> g, bool vectors)
{
    constexpr int32_t kTm = BM / 16;
    __shared__ float as[kGemmDepth][BM + 1];
    __shared__ float bs[kGemmDepth][kGemmCols + 1];
    __shared__ int64_t aRow[BM]; // A's row offset per tile row, -1 past the expert's rows

    int32_t e;
    int64_t row0, rowEnd;
    if (!tileRows<TA, W, BM>(g, kGemmThreads, e, row0, rowEnd, aRow))
        return;
    int64_t const n0 = int64_t{blockIdx.y} * kGemmCols;
    int32_t const tid = static_cast<int32_t>(threadIdx.x);
    int64_t const bRow0 = int64_t{e} * g.n + n0;
    int32_t const tx = tid % 16;
    int32_t const ty = tid / 16;
    float acc[kTm][4] = {};
    __syncthreads();
    for (int64_t k0 = 0; k0 < g.depth; k0 += kGemmDepth)
    {
        for (int32_t i = tid; i < BM * kGemmDepth; i += kGemmThreads)
        {
            int32_t const r = i / kGemmDepth;
            int32_t const kk = i % kGemmDepth;
            bool const in = aRow[r] >= 0 && k0 + kk < g.depth;
            as[kk][r] = in ? toFloat(g.a[aRow[r] + k0 + kk]) : 0.f;
        }
        loadB(g, bRow0, n0, k0, vectors, bs);
        __syncthreads();
#pragma unroll 8
        for (int32_t kk = 0; kk < kGemmDepth; ++kk)
        {
            float bv[4];
#pragma unroll
            for (int32_t j = 0; j < 4; ++j)
                bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
            for (int32_t i = 0; i < kTm; ++i)
            {
                float const av = as[kk][ty * kTm + i];
#pragma unroll
                for (int32_t j = 0; j < 4; ++j)
                    acc[i][j] = fmaf(av, bv[j], acc[i][j]);
            }
        }
        __syncthreads();
    }
    TA const* bias = g.bias != nullptr ? g.bias + int64_t{e} * g.n : nullptr;
#pragma unroll
    for (int32_t i = 0; i < kTm; ++i)
    {
        int64_t const row = row0 + ty * kTm + i;
        if (row >= rowEnd)
            continue;
#pragma unroll
        for (int32_t j = 0; j < 4; ++j)
        {
            int64_t const col = n0 + tx + 16 * j;
            if (col < g.n)
                g.c[row * g.n + col] = acc[i][j] + (bias != nullptr ? toFloat(bias[col]) : 0.f);
        }
    }
}

//! Launches the grouped GEMM over at most maxTiles row tiles (an upper bound the host knows:
//! ceil(routes / BM) + experts). Nothing to do for n == 0.
template <typename TA, typename W>
cudaError_t launchGroupedGemm(GroupedGemmArgs<TA, W> const& g, int32_t tileRows, int64_t maxTiles, cudaStream_t stream)
{
    if (g.n == 0 || maxTiles == 0)
        return cudaSuccess;
    bool const vectors = g.b.vectors();
    dim3 const grid(static_cast<unsigned>(maxTiles), static_cast<unsigned>((g.n + kGemmCols - 1) / kGemmCols));
    if (tileRows <= 16)
        groupedGemmKernel<TA, W, 16><<<grid, kGemmThreads, 0, stream>>>(g, vectors);
    else
        groupedGemmKernel<TA, W, 64><<<grid, kGemmThreads, 0, stream>>>(g, vectors);
    return cudaGetLastError();
}

} // namespace moe_detail
} // namespace trtplug
