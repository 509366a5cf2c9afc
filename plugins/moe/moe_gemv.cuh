// MoE's grouped GEMV, for decode-sized route counts: the grouped GEMM's C (moe_gemm.cuh) with a
// warp per output column over a tile of at most kGemvRows routes of one expert. Each weight row is
// streamed once per tile, 8 values a lane per load (16 bytes of fp16, 4 of int4 codes), with no
// block-wide barrier, so many rows are in flight
// (the tiled GEMMs wait on shared memory every step, which starves decode of bandwidth). A's rows
// (the gathered tokens) are re-read per column from L1/L2. Included only from the pipeline
// (moe_pipeline.cuh).
#pragma once

#include "common/launch.cuh"
#include "moe/moe_gemm.cuh"

#include <cstdint>

namespace trtplug
{
namespace moe_detail
{

constexpr int32_t kGemvRows = 8;
constexpr int32_t kGemvWarps = 8; // output columns per block

template <typename T, typename W>
__global__ void __launch_bounds__(kGemvWarps * 32) groupedGemvKernel(GroupedGemmArgs<T, W> g, bool vectors)
{
    int32_t const tile = static_cast<int32_t>(blockIdx.x);
    if (tile >= g.tileStart[g.experts])
        return;
    int32_t const e = expertOfTile(g.tileStart, g.experts, tile);
    int64_t const row0 = g.rowStart[e] + int64_t{tile - g.tileStart[e]} * kGemvRows;
    int64_t const rows = min(int64_t{kGemvRows}, g.rowStart[e + 1] - row0);
    int64_t const col = int64_t{blockIdx.y} * kGemvWarps + threadIdx.x / 32;
    int32_t const lane = static_cast<int32_t>(threadIdx.x % 32);
    if (col >= g.n)
        return;
    int64_t aRow[kGemvRows];
#pragma unroll
    for (int32_t r = 0; r < kGemvRows; ++r)
        aRow[r] = r < rows ? (g.rowRoute != nullptr ? g.rowRoute[row0 + r] / g.k : row0 + r) * g.lda : 0;
    int64_t const wRow = int64_t{e} * g.n + col;
    float acc[kGemvRows] = {};
    if (vectors)
    {
#pragma unroll 2
        for (int64_t k = lane * 8; k < g.depth; k += 32 * 8)
        {
            float w[8];
            g.b.load8(wRow, k, w);
#pragma unroll
            for (int32_t r = 0; r < kGemvRows; ++r)
            {
                if (r >= rows)
                    continue;
                float a[8];
                load8Floats(g.a + aRow[r] + k, a);
#pragma unroll
                for (int32_t j = 0; j < 8; ++j)
                    acc[r] = fmaf(w[j], a[j], acc[r]);
            }
        }
    }
    else
    {
        for (int64_t k = lane; k < g.depth; k += 32)
        {
            float const wv = g.b.at(wRow, k);
#pragma unroll
            for (int32_t r = 0; r < kGemvRows; ++r)
                if (r < rows)
                    acc[r] = fmaf(wv, toFloat(g.a[aRow[r] + k]), acc[r]);
        }
    }
    float const bias = g.bias != nullptr ? toFloat(g.bias[int64_t{e} * g.n + col]) : 0.f;
#pragma unroll
    for (int32_t r = 0; r < kGemvRows; ++r)
    {
        if (r >= rows)
            break;
        float v = acc[r];
        for (int off = 16; off > 0; off >>= 1)
            v += __shfl_xor_sync(0xffffffffu, v, off);
        if (lane == 0)
            g.c[(row0 + r) * g.n + col] = v + bias;
    }
}

//! The grouped GEMV over at most maxTiles tiles of kGemvRows; nothing to do for n == 0.
template <typename T, typename W>
cudaError_t launchGroupedGemv(GroupedGemmArgs<T, W> const& g, int64_t maxTiles, cudaStream_t stream)
{
    if (g.n == 0 || maxTiles == 0)
        return cudaSuccess;
    bool const vectors = g.b.vectors() && g.lda % 8 == 0 && isAligned(g.a, 16);
    dim3 const grid(static_cast<unsigned>(maxTiles), static_cast<unsigned>((g.n + kGemvWarps - 1) / kGemvWarps));
    groupedGemvKernel<T, W><<<grid, kGemvWarps * 32, 0, stream>>>(g, vectors);
    return cudaGetLastError();
}

} // namespace moe_detail
} // namespace trtplug
