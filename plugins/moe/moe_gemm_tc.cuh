// MoE's grouped gather-GEMM on tensor cores, for fp16/bf16 (moe_gemm.cuh has the float32 path and
// says what the GEMM computes): the same tiles and row mapping, with 4 warps of WMMA 16x16x16
// fragments accumulating in float32. Tiles of 64 rows (each warp 32 x 32) or 16 (each warp 16 x 16);
// 64 columns; 64 deep. A's rows are read as 16-byte vectors where depth is a multiple of 8 and A
// 16-byte aligned, B's 8 values a load where its weights allow (moe_weights.cuh; quantized weights
// are dequantized into the shared tile), else element by element. Included only from the pipeline.
#pragma once

#include "common/launch.cuh"
#include "moe/moe_gemm.cuh"

#include <mma.h>

#include <cstdint>

namespace trtplug
{
namespace moe_detail
{

constexpr int32_t kTcDepth = 64;
constexpr int32_t kTcThreads = 128;
constexpr int32_t kTcPad = 8; // keeps 16-byte rows and spreads the banks

//! A's `rows` x kTcDepth elements of T from row offsets `rowOffset[r]` (-1: zeros) at depth k0 into
//! shared `dst` (row stride kTcDepth + kTcPad).
template <typename T, int32_t kRows>
__device__ __forceinline__ void loadTile(T* dst, T const* src, int64_t const* rowOffset, int64_t k0, int64_t depth,
    bool vectors)
{
    constexpr int32_t kLd = kTcDepth + kTcPad;
    if (vectors)
    {
        using V = Vec<T, 8>;
        for (int32_t i = threadIdx.x; i < kRows * kTcDepth / 8; i += kTcThreads)
        {
            int32_t const r = i / (kTcDepth / 8);
            int32_t const kk = (i % (kTcDepth / 8)) * 8;
            V v;
            if (rowOffset[r] >= 0 && k0 + kk < depth)
                v = *reinterpret_cast<V const*>(src + rowOffset[r] + k0 + kk);
            else
#pragma unroll
                for (int32_t j = 0; j < 8; ++j)
                    v.v[j] = fromFloat<T>(0.f);
            *reinterpret_cast<V*>(dst + r * kLd + kk) = v;
        }
        return;
    }
    for (int32_t i = threadIdx.x; i < kRows * kTcDepth; i += kTcThreads)
    {
        int32_t const r = i / kTcDepth;
        int32_t const kk = i % kTcDepth;
        bool const in = rowOffset[r] >= 0 && k0 + kk < depth;
        dst[r * kLd + kk] = in ? src[rowOffset[r] + k0 + kk] : fromFloat<T>(0.f);
    }
}

//! B's kGemmCols x kTcDepth tile (weight rows bRow0.., columns n0..) at depth k0 into shared `dst`
//! in T, zeros past n and depth: dense weights pass through, quantized ones are dequantized here.
template <typename T, typename W>
__device__ __forceinline__ void loadTileB(T* dst, GroupedGemmArgs<T, W> const& g, int64_t bRow0, int64_t n0,
    int64_t k0, bool vectors)
{
    constexpr int32_t kLd = kTcDepth + kTcPad;
    if (vectors)
    {
        for (int32_t i = threadIdx.x; i < kGemmCols * kTcDepth / 8; i += kTcThreads)
        {
            int32_t const c = i / (kTcDepth / 8);
            int32_t const kk = (i % (kTcDepth / 8)) * 8;
            float v[8] = {};
            if (n0 + c < g.n && k0 + kk < g.depth)
                g.b.load8(bRow0 + c, k0 + kk, v);
            Vec<T, 8> out;
#pragma unroll
            for (int32_t j = 0; j < 8; ++j)
                out.v[j] = fromFloat<T>(v[j]);
            *reinterpret_cast<Vec<T, 8>*>(dst + c * kLd + kk) = out;
        }
        return;
    }
    for (int32_t i = threadIdx.x; i < kGemmCols * kTcDepth; i += kTcThreads)
    {
        int32_t const c = i / kTcDepth;
        int32_t const kk = i % kTcDepth;
        bool const in = n0 + c < g.n && k0 + kk < g.depth;
        dst[c * kLd + kk] = fromFloat<T>(in ? g.b.at(bRow0 + c, k0 + kk) : 0.f);
    }
}

template <typename T, typename W, int32_t BM>
__global__ void __launch_bounds__(kTcThreads) groupedGemmTcKernel(GroupedGemmArgs<T, W> g, bool aVectors, bool bVectors)
{
    using namespace nvcuda;
    constexpr int32_t kLd = kTcDepth + kTcPad;
    constexpr int32_t kFm = BM == 64 ? 2 : 1;     // fragments per warp down
    constexpr int32_t kFn = BM == 64 ? 2 : 1;     // and across
    constexpr int32_t kWarpsN = kGemmCols / (16 * kFn);
    __shared__ alignas(16) T as[BM * kLd];
    __shared__ alignas(16) T bs[kGemmCols * kLd];
    __shared__ alignas(16) float cs[BM][kGemmCols + 4];
    __shared__ int64_t aRow[BM];

    int32_t e;
    int64_t row0, rowEnd;
    if (!tileRows<T, W, BM>(g, kTcThreads, e, row0, rowEnd, aRow))
        return;
    int64_t const n0 = int64_t{blockIdx.y} * kGemmCols;
    int64_t const bRow0 = int64_t{e} * g.n + n0;
    int32_t const warp = static_cast<int32_t>(threadIdx.x / 32);
    int32_t const wm = warp / kWarpsN;
    int32_t const wn = warp % kWarpsN;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[kFm][kFn];
#pragma unroll
    for (int32_t i = 0; i < kFm; ++i)
#pragma unroll
        for (int32_t j = 0; j < kFn; ++j)
            wmma::fill_fragment(acc[i][j], 0.f);
    __syncthreads();
    for (int64_t k0 = 0; k0 < g.depth; k0 += kTcDepth)
    {
        loadTile<T, BM>(as, g.a, aRow, k0, g.depth, aVectors);
        loadTileB(bs, g, bRow0, n0, k0, bVectors);
        __syncthreads();
#pragma unroll
        for (int32_t kk = 0; kk < kTcDepth; kk += 16)
        {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[kFm];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb[kFn];
#pragma unroll
            for (int32_t i = 0; i < kFm; ++i)
                wmma::load_matrix_sync(fa[i], as + (wm * kFm + i) * 16 * kLd + kk, kLd);
#pragma unroll
            for (int32_t j = 0; j < kFn; ++j)
                wmma::load_matrix_sync(fb[j], bs + (wn * kFn + j) * 16 * kLd + kk, kLd);
#pragma unroll
            for (int32_t i = 0; i < kFm; ++i)
#pragma unroll
                for (int32_t j = 0; j < kFn; ++j)
                    wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int32_t i = 0; i < kFm; ++i)
#pragma unroll
        for (int32_t j = 0; j < kFn; ++j)
            wmma::store_matrix_sync(&cs[(wm * kFm + i) * 16][(wn * kFn + j) * 16], acc[i][j], kGemmCols + 4,
                wmma::mem_row_major);
    __syncthreads();
    T const* bias = g.bias != nullptr ? g.bias + int64_t{e} * g.n : nullptr;
    for (int32_t i = threadIdx.x; i < BM * kGemmCols; i += kTcThreads)
    {
        int32_t const r = i / kGemmCols;
        int32_t const c = i % kGemmCols;
        int64_t const row = row0 + r;
        int64_t const col = n0 + c;
        if (row < rowEnd && col < g.n)
            g.c[row * g.n + col] = cs[r][c] + (bias != nullptr ? toFloat(bias[col]) : 0.f);
    }
}

//! The tensor-core grouped GEMM (A of a 16-bit type T, B read as T); as launchGroupedGemm otherwise.
template <typename T, typename W>
cudaError_t launchGroupedGemmTc(GroupedGemmArgs<T, W> const& g, int32_t tileRows, int64_t maxTiles, cudaStream_t stream)
{
    if (g.n == 0 || maxTiles == 0)
        return cudaSuccess;
    bool const aVectors = g.depth % 8 == 0 && g.lda % 8 == 0 && isAligned(g.a, 16);
    bool const bVectors = g.b.vectors();
    dim3 const grid(static_cast<unsigned>(maxTiles), static_cast<unsigned>((g.n + kGemmCols - 1) / kGemmCols));
    if (tileRows == 16)
        groupedGemmTcKernel<T, W, 16><<<grid, kTcThreads, 0, stream>>>(g, aVectors, bVectors);
    else
        groupedGemmTcKernel<T, W, 64><<<grid, kTcThreads, 0, stream>>>(g, aVectors, bVectors);
    return cudaGetLastError();
}

} // namespace moe_detail
} // namespace trtplug
