// MoE's grouped GEMV, for decode-sized route counts: the grouped GEMM's C (moe_gemm.cuh) with a
// warp per output column over a tile of at most kGemvRows routes of one expert. Each weight row is
// streamed once per tile with 16-byte loads and no block-wide barrier, so many rows are in flight
// (the tiled GEMMs wait on shared memory every step, which starves decode of bandwidth). A's rows
// (the gathered tokens) are re-read per column from L1/L2. Included only from moe.cu.
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

//! sum over i < N of a[i] * b[i] in float32.
template <typename T, int32_t N>
__device__ __forceinline__ float dot(Vec<T, N> const& a, Vec<T, N> const& b)
{
    float s = 0.f;
#pragma unroll
    for (int32_t i = 0; i < N; ++i)
        s = fmaf(toFloat(a.v[i]), toFloat(b.v[i]), s);
    return s;
}

template <typename T>
__global__ void __launch_bounds__(kGemvWarps * 32) groupedGemvKernel(GroupedGemmArgs<T, T> g, bool vectors)
{
    constexpr int32_t kVec = 16 / sizeof(T);
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
    T const* w = g.b + (int64_t{e} * g.n + col) * g.depth;
    float acc[kGemvRows] = {};
    if (vectors)
    {
        using V = Vec<T, kVec>;
#pragma unroll 2
        for (int64_t k = lane * kVec; k < g.depth; k += 32 * kVec)
        {
            V const wv = *reinterpret_cast<V const*>(w + k);
#pragma unroll
            for (int32_t r = 0; r < kGemvRows; ++r)
                if (r < rows)
                    acc[r] += dot(wv, *reinterpret_cast<V const*>(g.a + aRow[r] + k));
        }
    }
    else
    {
        for (int64_t k = lane; k < g.depth; k += 32)
        {
            float const wv = toFloat(w[k]);
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
template <typename T>
cudaError_t launchGroupedGemv(GroupedGemmArgs<T, T> const& g, int64_t maxTiles, cudaStream_t stream)
{
    if (g.n == 0 || maxTiles == 0)
        return cudaSuccess;
    constexpr int32_t kVec = 16 / sizeof(T);
    bool const vectors = g.depth % kVec == 0 && g.lda % kVec == 0 && isAligned(g.a, 16) && isAligned(g.b, 16);
    dim3 const grid(static_cast<unsigned>(maxTiles), static_cast<unsigned>((g.n + kGemvWarps - 1) / kGemvWarps));
    groupedGemvKernel<T><<<grid, kGemvWarps * 32, 0, stream>>>(g, vectors);
    return cudaGetLastError();
}

} // namespace moe_detail
} // namespace trtplug
