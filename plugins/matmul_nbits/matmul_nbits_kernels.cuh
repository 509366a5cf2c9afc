// MatMulNBits kernels (included by matmul_nbits.cu only). Codes are unpacked from 32-bit words of
// B, low bits first (byte 0 is a word's low byte, its low bits the first code), so code j of a
// word is (word >> (j * kBits)) & mask. A word never straddles a quantization block: a block is
// block_size * bits / 8 >= 4 bytes and the rows start on block boundaries.
#pragma once

#include "common/launch.cuh"
#include "matmul_nbits/matmul_nbits.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace trtplug
{
namespace nbits
{

constexpr int kWarps = 4;       //!< warps per GEMV block
constexpr int kRowsPerWarp = 4; //!< output columns n per warp: A's values read once serve all four
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;
constexpr float kMagic = 8388608.0F; //!< 2^23: (0x4B000000 | q) is the float 2^23 + q, exact

//! Code q as a float without an int-to-float conversion (a quarter-rate instruction).
__device__ __forceinline__ float codeToFloat(uint32_t q)
{
    return __uint_as_float(0x4B000000U | q) - kMagic;
}

//! Zero point of (row n, block blk) as a float: packed uint8 codes, floats of type T, or 2^(bits-1).
template <typename T, int kBits>
__device__ __forceinline__ float zeroPoint(NBitsProblem const& p, int64_t zpRowBytes, int64_t blocks, int64_t n, int64_t blk)
{
    if (p.zeroPoints == nullptr)
    {
        return static_cast<float>(1 << (kBits - 1));
    }
    if (!p.zeroPointsPacked)
    {
        return toFloat(static_cast<T const*>(p.zeroPoints)[n * blocks + blk]);
    }
    int64_t const bit = blk * kBits;
    uint32_t const byte = __ldg(static_cast<uint8_t const*>(p.zeroPoints) + n * zpRowBytes + (bit >> 3));
    return static_cast<float>((byte >> (bit & 7)) & ((1U << kBits) - 1U));
}

//! A[m0 .. m0 + kM, t0 .. t0 + tile) as float into shared memory, zero past M and K; row stride
//! `stride`, element k at k + k / 32 (one pad per 32: lanes reading codes 32 apart hit distinct banks).
template <typename T, int kM>
__device__ void stageA(NBitsProblem const& p, int64_t m0, int64_t t0, int tile, int stride, float* smem)
{
    for (int idx = threadIdx.x; idx < kM * tile; idx += blockDim.x)
    {
        int const mi = idx / tile;
        int const kk = idx - mi * tile;
        int64_t const m = m0 + mi;
        int64_t const k = t0 + kk;
        float const v = (m < p.m && k < p.k) ? toFloat(static_cast<T const*>(p.a)[m * p.k + k]) : 0.0F;
        smem[mi * stride + kk + (kk >> 5)] = v;
    }
}

//! acc[m][r] += sum over the word's codes of a[m][k] * dequant(q_r(k)), for rows sharing the
//! word position. Without g_idx the word's codes share one block: sum a*q and sum a are taken
//! first and scaled once; with g_idx every code looks up its own block.
template <typename T, int kBits, int kM>
__device__ __forceinline__ void accumulateWord(NBitsProblem const& p, uint32_t const (&word)[kRowsPerWarp],
    int64_t const (&row)[kRowsPerWarp], int64_t k0, float const* a, int stride, int64_t zpRowBytes, int64_t blocks,
    int log2Block, float (&acc)[kM][kRowsPerWarp])
{
    constexpr int kCodes = 32 / kBits;
    constexpr uint32_t kMask = (1U << kBits) - 1U;
    T const* scales = static_cast<T const*>(p.scales);
    if (p.gIdx == nullptr)
    {
        int64_t const blk = k0 >> log2Block;
        float scale[kRowsPerWarp];
        float offset[kRowsPerWarp]; // -zero * scale
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
        {
            scale[r] = toFloat(scales[row[r] * blocks + blk]);
            offset[r] = -zeroPoint<T, kBits>(p, zpRowBytes, blocks, row[r], blk) * scale[r];
        }
#pragma unroll
        for (int mi = 0; mi < kM; ++mi)
        {
            float sumA = 0.0F;
            float dot[kRowsPerWarp] = {};
#pragma unroll
            for (int j = 0; j < kCodes; ++j)
            {
                float const av = a[mi * stride + j];
                sumA += av;
#pragma unroll
                for (int r = 0; r < kRowsPerWarp; ++r)
                {
                    dot[r] = fmaf(av, codeToFloat((word[r] >> (j * kBits)) & kMask), dot[r]);
                }
            }
#pragma unroll
            for (int r = 0; r < kRowsPerWarp; ++r)
            {
                acc[mi][r] = fmaf(scale[r], dot[r], fmaf(offset[r], sumA, acc[mi][r]));
            }
        }
        return;
    }
#pragma unroll
    for (int j = 0; j < kCodes; ++j)
    {
        int64_t const k = k0 + j;
        int64_t const blk = k < p.k ? __ldg(p.gIdx + k) : 0; // codes past K meet A's zeros
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
        {
            float const s = toFloat(scales[row[r] * blocks + blk]);
            float const z = zeroPoint<T, kBits>(p, zpRowBytes, blocks, row[r], blk);
            float const w = (codeToFloat((word[r] >> (j * kBits)) & kMask) - z) * s;
#pragma unroll
            for (int mi = 0; mi < kM; ++mi)
            {
                acc[mi][r] = fmaf(a[mi * stride + j], w, acc[mi][r]);
            }
        }
    }
}

//! The GEMV: block (x: 16 output columns, y: kM rows of A). K in tiles of `tile` codes staged
//! in shared memory; each lane takes kWords-word pieces of its warp's 4 weight rows (kWords = 4:
//! one 16-byte load per row). Codes past K multiply A's zeros; the padded rows past N are not read.
template <typename T, int kBits, int kWords, int kM>
__global__ void __launch_bounds__(kWarps * 32) gemvKernel(NBitsProblem p, int tile, int log2Block)
{
    extern __shared__ float smemA[];
    constexpr int kCodesPerWord = 32 / kBits;
    constexpr int kCodesPerPiece = kWords * kCodesPerWord;
    int const stride = tile + tile / 32;
    int const warp = threadIdx.x / 32;
    int const lane = threadIdx.x % 32;
    int64_t const blocks = (p.k + p.blockSize - 1) / p.blockSize;
    int64_t const paddedK = blocks * p.blockSize;
    int64_t const rowBytes = paddedK * kBits / 8;
    int64_t const zpRowBytes = (blocks * kBits + 7) / 8;
    int64_t const m0 = static_cast<int64_t>(blockIdx.y) * kM;
    int64_t row[kRowsPerWarp];
    bool live[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r)
    {
        int64_t const n = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp * kRowsPerWarp + r;
        live[r] = n < p.n;
        row[r] = live[r] ? n : 0; // dead rows read row 0's scales, never its weights, and store nothing
    }
    float acc[kM][kRowsPerWarp] = {};
    for (int64_t t0 = 0; t0 < paddedK; t0 += tile)
    {
        __syncthreads(); // the previous tile's readers are done
        stageA<T, kM>(p, m0, t0, tile, stride, smemA);
        __syncthreads();
        int64_t const tileCodes = paddedK - t0 < tile ? paddedK - t0 : tile;
        // Unrolled for few rows of A: several pieces' loads in flight per lane (decode is memory-bound).
        constexpr int kUnroll = kM <= 2 ? 4 : 1;
#pragma unroll kUnroll
        for (int64_t piece = lane; piece * kCodesPerPiece < tileCodes; piece += 32)
        {
            int64_t const byteOffset = (t0 + piece * kCodesPerPiece) * kBits / 8;
            uint32_t words[kRowsPerWarp][kWords];
#pragma unroll
            for (int r = 0; r < kRowsPerWarp; ++r)
            {
                uint8_t const* src = p.b + row[r] * rowBytes + byteOffset;
                if constexpr (kWords == 4)
                {
                    uint4 const v = live[r] ? __ldg(reinterpret_cast<uint4 const*>(src)) : make_uint4(0, 0, 0, 0);
                    words[r][0] = v.x;
                    words[r][1 % kWords] = v.y;
                    words[r][2 % kWords] = v.z;
                    words[r][3 % kWords] = v.w;
                }
                else
                {
                    words[r][0] = live[r] ? __ldg(reinterpret_cast<uint32_t const*>(src)) : 0U;
                }
            }
#pragma unroll
            for (int w = 0; w < kWords; ++w)
            {
                uint32_t const word[kRowsPerWarp] = {words[0][w], words[1][w], words[2][w], words[3][w]};
                int const kk = static_cast<int>(piece * kCodesPerPiece) + w * kCodesPerWord;
                // A word's codes sit at kk .. kk + kCodesPerWord - 1 <= a multiple of 32 apart from the
                // next pad: kCodesPerWord divides 32, so no pad falls inside the run.
                accumulateWord<T, kBits, kM>(p, word, row, t0 + kk, smemA + kk + (kk >> 5), stride, zpRowBytes,
                    blocks, log2Block, acc);
            }
        }
    }
    // Lanes hold partial sums over their pieces: reduce across the warp, lane 0 stores.
#pragma unroll
    for (int mi = 0; mi < kM; ++mi)
    {
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
        {
            float v = acc[mi][r];
#pragma unroll
            for (int offset = 16; offset > 0; offset /= 2)
            {
                v += __shfl_xor_sync(0xFFFFFFFFU, v, offset);
            }
            int64_t const m = m0 + mi;
            if (lane == 0 && live[r] && m < p.m)
            {
                float const bias = p.bias != nullptr ? toFloat(static_cast<T const*>(p.bias)[row[r]]) : 0.0F;
                static_cast<T*>(p.y)[m * p.n + row[r]] = fromFloat<T>(v + bias);
            }
        }
    }
}

//! B dequantized into w[N, K] (A's type): one thread per 32-bit word of B, codes past K dropped.
template <typename T, int kBits>
__global__ void dequantizeKernel(NBitsProblem p, T* w, int log2Block)
{
    constexpr int kCodesPerWord = 32 / kBits;
    constexpr uint32_t kMask = (1U << kBits) - 1U;
    int64_t const blocks = (p.k + p.blockSize - 1) / p.blockSize;
    int64_t const wordsPerRow = blocks * p.blockSize / kCodesPerWord;
    int64_t const zpRowBytes = (blocks * kBits + 7) / 8;
    T const* scales = static_cast<T const*>(p.scales);
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < p.n * wordsPerRow;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const n = i / wordsPerRow;
        int64_t const k0 = (i - n * wordsPerRow) * kCodesPerWord;
        uint32_t const word = __ldg(reinterpret_cast<uint32_t const*>(p.b) + i);
#pragma unroll
        for (int j = 0; j < kCodesPerWord; ++j)
        {
            int64_t const k = k0 + j;
            if (k < p.k)
            {
                int64_t const blk = p.gIdx != nullptr ? __ldg(p.gIdx + k) : k >> log2Block;
                float const s = toFloat(scales[n * blocks + blk]);
                float const z = zeroPoint<T, kBits>(p, zpRowBytes, blocks, n, blk);
                w[n * p.k + k] = fromFloat<T>((codeToFloat((word >> (j * kBits)) & kMask) - z) * s);
            }
        }
    }
}

//! y[m, n] += bias[n], after the GEMM (rows of n elements): rows on the grid's y (a stride past
//! 65535), columns on x, so no element pays a 64-bit modulo for its bias index.
template <typename T>
__global__ void addBiasKernel(T* y, T const* bias, int64_t rows, int64_t n)
{
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y)
    {
        for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < n;
             c += static_cast<int64_t>(gridDim.x) * blockDim.x)
        {
            y[r * n + c] = fromFloat<T>(toFloat(y[r * n + c]) + toFloat(bias[c]));
        }
    }
}

} // namespace nbits
} // namespace trtplug
