// MatMulNBits decode GEMV for one row of A (M = 1, the token-by-token decode step), a warp per
// output column (a row of B), included by matmul_nbits.cu only. Same layout conditions as the fast
// kernels (matmul_nbits_fast.cuh: no g_idx, K a multiple of the block, rows of whole 16-byte chunks).
//
// Why it beats the four-column GEMV of matmul_nbits_fast.cuh at K = N = 4096 (ncu there: 1.55
// waves of blocks that each load, wait, compute and exit, DRAM at 28% of peak):
//  - one wave: blocks of 16 warps, 2 per SM, one row of B per warp, so every weight byte of the
//    layer is requested at once (2 KiB per warp per batch, 64 KiB per SM in flight at 4 bits, block 32) and a warp
//    that needs several rows loops over them with the others' loads covering its compute;
//  - the first batch of weights is loaded before A is staged, so A's latency hides under theirs;
//  - A is staged once per block into shared memory as float, laid out so that the 32 lanes' float4
//    reads of their chunks are consecutive (no bank conflicts), with the sums of A over each
//    chunk's quantization groups, so a code costs a permute, a subtraction and one FMA;
//  - no block-wide reduction: the warp's lanes sum with shuffles and lane 0 stores.
#pragma once

#include "common/launch.cuh"
#include "matmul_nbits/matmul_nbits.h"
#include "matmul_nbits/matmul_nbits_fast.cuh"
#include "matmul_nbits/matmul_nbits_kernels.cuh"

#include <algorithm>
#include <cstdint>

namespace trtplug
{
namespace nbits_rows
{

using nbits_fast::kChunkBytes;
using nbits_fast::kChunkWords;

constexpr int kThreads = 512;
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr int kBlocksPerSm = 2; //!< compiled for: 64 registers, 32 warps per SM
//! 16-byte chunks per lane loaded before any is used: 4, or 2 with two scale groups per chunk
//! (their scales and offsets would take the registers of 8 more words: 32 bytes of spills).
template <int kGroups>
constexpr int kBatch = kGroups == 1 ? 4 : 2;

template <int kBits>
constexpr int kChunkCodes = kChunkBytes * 8 / kBits; // 32 at 4 bits, 16 at 8

//! Shared memory of one block: A as float (K of them), then the sums of A per (chunk, group).
inline size_t stagedBytes(int64_t k, int bits, int groups) noexcept
{
    int64_t const chunks = k * bits / 8 / kChunkBytes;
    return static_cast<size_t>(k + chunks * groups) * sizeof(float);
}

//! A[0, :] into shared memory: element i of chunk q (codes q * C .. q * C + C) at float4
//! (i / 4) * chunks + q, so lanes reading float4 f of consecutive chunks read consecutive float4s;
//! `sums[q * kGroups + g]` = the sum of A over group g of chunk q.
template <typename T, int kBits, int kGroups>
__device__ void stageA(NBitsProblem const& p, int chunks, float4* a, float* sums)
{
    constexpr int kC = kChunkCodes<kBits>;
    constexpr int kGroupCodes = kC / kGroups;
    for (int q = threadIdx.x; q < chunks; q += blockDim.x)
    {
        float v[kC];
        nbits_fast::loadAsFloats<T, kC>(static_cast<T const*>(p.a) + q * kC, v);
#pragma unroll
        for (int f = 0; f < kC / 4; ++f)
        {
            a[f * chunks + q] = make_float4(v[4 * f], v[4 * f + 1], v[4 * f + 2], v[4 * f + 3]);
        }
#pragma unroll
        for (int g = 0; g < kGroups; ++g)
        {
            float s = 0.0F;
#pragma unroll
            for (int j = 0; j < kGroupCodes; ++j)
            {
                s += v[g * kGroupCodes + j];
            }
            sums[q * kGroups + g] = s;
        }
    }
}

//! One lane's kBatch chunks of a row of B with their scales s and offsets -z * s, per group.
template <int kGroups>
struct Batch
{
    uint4 w[kBatch<kGroups>];
    float s[kBatch<kGroups>][kGroups];
    float offset[kBatch<kGroups>][kGroups];
};

//! Where the row's chunks are: the sizes every batch load and accumulation needs.
struct RowLayout
{
    int64_t rowBytes;
    int chunks;         //!< 16-byte chunks per row (K < 2^31 codes: the staged A must fit a block)
    int blocks;         //!< quantization blocks per row
    int64_t zpRowBytes; //!< packed zero-point bytes per row
    int log2Block;
};

//! Chunks base + b * 32 + lane of row `row` (b < kBatch); nothing is read past the row or past N
//! (zeros: they add nothing).
template <typename T, int kBits, int kGroups>
__device__ __forceinline__ Batch<kGroups> loadBatch(
    NBitsProblem const& p, RowLayout const& l, int64_t row, int base, int lane)
{
    constexpr int kGroupCodes = kChunkCodes<kBits> / kGroups;
    Batch<kGroups> out;
#pragma unroll
    for (int b = 0; b < kBatch<kGroups>; ++b)
    {
        int const q = base + b * 32 + lane;
        bool const inside = row < p.n && q < l.chunks;
        out.w[b] = inside ? __ldg(reinterpret_cast<uint4 const*>(p.b + row * l.rowBytes + q * kChunkBytes))
                          : make_uint4(0, 0, 0, 0);
#pragma unroll
        for (int g = 0; g < kGroups; ++g)
        {
            int const blk = (q * kChunkCodes<kBits> + g * kGroupCodes) >> l.log2Block;
            float const s = inside ? toFloat(static_cast<T const*>(p.scales)[row * l.blocks + blk]) : 0.0F;
            out.s[b][g] = s;
            out.offset[b][g] = inside ? -nbits::zeroPoint<T, kBits>(p, l.zpRowBytes, l.blocks, row, blk) * s : 0.0F;
        }
    }
    return out;
}

//! acc += the batch's part of the dot product: per group s * sum(a * q) - z * s * sum(a).
template <int kBits, int kGroups>
__device__ __forceinline__ void accumulateBatch(Batch<kGroups> const& batch, float4 const* a, float const* sums,
    int chunks, int base, int lane, float& acc)
{
    constexpr int kCodes = 32 / kBits;       // codes per 32-bit word
    constexpr int kGroupWords = kChunkWords / kGroups;
    constexpr float kMagic = 8388608.0F;     // 2^23: biasedCodes gives 2^23 + q
#pragma unroll
    for (int b = 0; b < kBatch<kGroups>; ++b)
    {
        int const q = base + b * 32 + lane;
        if (q >= chunks)
        {
            break; // the row's last batch: later chunks are past it too
        }
        uint32_t const words[kChunkWords] = {batch.w[b].x, batch.w[b].y, batch.w[b].z, batch.w[b].w};
#pragma unroll
        for (int g = 0; g < kGroups; ++g)
        {
            float dot = 0.0F;
#pragma unroll
            for (int wi = 0; wi < kGroupWords; ++wi)
            {
                int const word = g * kGroupWords + wi;
                float code[kCodes];
                nbits_fast::biasedCodes<kBits>(words[word], code);
#pragma unroll
                for (int f = 0; f < kCodes / 4; ++f)
                {
                    float4 const av = a[(word * kCodes / 4 + f) * chunks + q];
                    dot = fmaf(av.x, code[4 * f] - kMagic, dot);
                    dot = fmaf(av.y, code[4 * f + 1] - kMagic, dot);
                    dot = fmaf(av.z, code[4 * f + 2] - kMagic, dot);
                    dot = fmaf(av.w, code[4 * f + 3] - kMagic, dot);
                }
            }
            acc = fmaf(batch.s[b][g], dot, fmaf(batch.offset[b][g], sums[q * kGroups + g], acc));
        }
    }
}

//! Y[0, row] for rows blockIdx.x * 16 + warp, then every gridDim.x * 16 rows after it.
template <typename T, int kBits, int kGroups>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm) gemvRowsKernel(NBitsProblem p, int log2Block)
{
    extern __shared__ float4 stagedA[];
    RowLayout l;
    l.rowBytes = p.k * kBits / 8;
    l.chunks = static_cast<int>(l.rowBytes / kChunkBytes);
    l.blocks = static_cast<int>(p.k >> log2Block);
    l.zpRowBytes = (l.blocks * kBits + 7) / 8;
    l.log2Block = log2Block;
    int const lane = static_cast<int>(threadIdx.x % 32);
    int64_t const rowStride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
    int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
    constexpr int kSpan = kBatch<kGroups> * 32;
    // The first weights are in flight before A is staged: A's latency hides under theirs.
    Batch<kGroups> batch = loadBatch<T, kBits, kGroups>(p, l, row, 0, lane);
    float* const sums = reinterpret_cast<float*>(stagedA + p.k / 4);
    stageA<T, kBits, kGroups>(p, l.chunks, stagedA, sums);
    __syncthreads();
    // `row` is the same for a warp's 32 lanes: the shuffles below see all of them.
    for (; row < p.n; row += rowStride)
    {
        float acc = 0.0F;
        for (int base = 0;;)
        {
            accumulateBatch<kBits, kGroups>(batch, stagedA, sums, l.chunks, base, lane, acc);
            base += kSpan;
            if (base >= l.chunks)
            {
                break;
            }
            batch = loadBatch<T, kBits, kGroups>(p, l, row, base, lane);
        }
        batch = loadBatch<T, kBits, kGroups>(p, l, row + rowStride, 0, lane); // in flight during the store
#pragma unroll
        for (int offset = 16; offset > 0; offset /= 2)
        {
            acc += __shfl_xor_sync(0xFFFFFFFFU, acc, offset);
        }
        if (lane == 0)
        {
            float const bias = p.bias != nullptr ? toFloat(static_cast<T const*>(p.bias)[row]) : 0.0F;
            static_cast<T*>(p.y)[row] = fromFloat<T>(acc + bias);
        }
    }
}

//! Whether the row GEMV takes p: one row of A whose staged copy fits a block's shared memory
//! (K up to ~56k codes on Hopper), besides the fast kernels' layout conditions (checked by the caller).
inline bool rowsGemvFits(NBitsProblem const& p, int groups) noexcept
{
    return p.m == 1 && p.bits != 2
        && stagedBytes(p.k, p.bits, groups)
        <= static_cast<size_t>(cachedDeviceAttribute<cudaDevAttrMaxSharedMemoryPerBlockOptin>(48 * 1024));
}

template <typename T, int kBits, int kGroups>
cudaError_t launchRowsGemv(NBitsProblem const& p, int log2Block, cudaStream_t stream)
{
    auto const kernel = gemvRowsKernel<T, kBits, kGroups>;
    size_t const smem = stagedBytes(p.k, kBits, kGroups);
    if (smem > 48 * 1024)
    {
        cudaError_t const err
            = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
        if (err != cudaSuccess)
        {
            return err;
        }
    }
    // One wave: the blocks that fit at once (shared memory may allow fewer than kBlocksPerSm).
    auto const smPerBlock = static_cast<int64_t>(smem) + 1024; // the driver reserves 1 KiB per block
    int64_t const fitPerSm = std::max<int64_t>(1,
        std::min<int64_t>(kBlocksPerSm,
            cachedDeviceAttribute<cudaDevAttrMaxSharedMemoryPerMultiprocessor>(228 * 1024) / smPerBlock));
    int64_t const needed = (p.n + kWarpsPerBlock - 1) / kWarpsPerBlock;
    auto const grid = static_cast<unsigned>(std::min<int64_t>(needed, fitPerSm * multiprocessorCount()));
    kernel<<<grid, kThreads, smem, stream>>>(p, log2Block);
    return cudaGetLastError();
}

} // namespace nbits_rows
} // namespace trtplug
