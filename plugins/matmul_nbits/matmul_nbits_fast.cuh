// MatMulNBits bandwidth-bound kernels (included by matmul_nbits.cu only), for the common layout:
// no g_idx, K a multiple of block_size (B's rows unpadded) and B's rows a multiple of 16 bytes, so
// every 16-byte chunk of B is whole inside one row and its codes are all below K. The launcher
// (matmul_nbits.cu, fastPathFits) sends every other call to the kernels of matmul_nbits_kernels.cuh.
//
// Decode (M <= 8) is a stream over the packed weights (8 MiB at K = N = 4096, int4): each weight
// byte is read once with 16-byte loads, several in flight per thread; A (at most 8 rows, a few KiB)
// stays in L1 and serves the 4 output columns a block reads together. Codes become floats with one
// byte permute each (0x4B0000qq is the float 2^23 + q) and one subtraction; per quantization block
// the sums sum(a * q) and sum(a) are scaled once: Y += s * sum(a*q) - z * s * sum(a).
#pragma once

#include "common/launch.cuh"
#include "matmul_nbits/matmul_nbits.h"
#include "matmul_nbits/matmul_nbits_kernels.cuh"

#include <cstdint>

namespace trtplug
{
namespace nbits_fast
{

constexpr int kGemvThreads = 128; //!< 4 warps split one block's K between them
constexpr int kGemvWarps = kGemvThreads / 32;
constexpr int kCols = 4;          //!< output columns n per block: each A value loaded serves four
constexpr int kChunkBytes = 16;   //!< one 16-byte load of B
constexpr int kChunkWords = kChunkBytes / 4;

//! Blocks per SM the GEMV is compiled for. One row of A (<= 96 registers, no spills at sm_90): 5 *
//! 128 threads, each with 4 16-byte loads in flight, keep 40 KiB of weights in flight per SM, above
//! the ~25 KiB that 3.4 TB/s over 132 SMs needs at ~1 us of loaded latency. More rows of A (or two
//! scale groups per chunk) need more registers for their sums, and 4+ rows are compute-bound anyway.
//! (ncu on the H100: 96 registers, 1.55 waves at K = N = 4096; compiled for 8 blocks, one wave, it
//! spilled at 64 registers and ran 9.53 against 7.54 us.)
template <int kM, int kGroups>
constexpr int kGemvMinBlocks = (kM == 1 && kGroups == 1) ? 5 : (kM * kGroups <= 2 ? 4 : 1);

//! Codes of a 32-bit word as 2^23 + q floats: byte permutes from 8-bit bytes (4-bit: low and high
//! nibbles split first with two masks), so a code costs one PRMT instead of shift, mask and or.
template <int kBits>
__device__ __forceinline__ void biasedCodes(uint32_t word, float (&out)[32 / kBits])
{
    constexpr uint32_t kExponent = 0x4B000000U; // bytes 4..7 of the permute: 00 00 00 4B
    if constexpr (kBits == 8)
    {
#pragma unroll
        for (int j = 0; j < 4; ++j)
        {
            out[j] = __uint_as_float(__byte_perm(word, kExponent, 0x7540U | j));
        }
    }
    else
    {
        static_assert(kBits == 4, "the fast GEMV takes 4 and 8 bits");
        uint32_t const low = word & 0x0F0F0F0FU;         // codes 0, 2, 4, 6 (low nibble first)
        uint32_t const high = (word >> 4) & 0x0F0F0F0FU; // codes 1, 3, 5, 7
#pragma unroll
        for (int j = 0; j < 4; ++j)
        {
            out[2 * j] = __uint_as_float(__byte_perm(low, kExponent, 0x7540U | j));
            out[2 * j + 1] = __uint_as_float(__byte_perm(high, kExponent, 0x7540U | j));
        }
    }
}

//! kN consecutive elements of T at src as floats, in loads of at most 16 bytes (src aligned to
//! the smaller of 16 bytes and kN * sizeof(T), which the fast path's conditions guarantee).
template <typename T, int kN>
__device__ __forceinline__ void loadAsFloats(T const* src, float (&out)[kN])
{
    constexpr int kPiece = (kN * sizeof(T) > 16) ? 16 / sizeof(T) : kN;
#pragma unroll
    for (int i = 0; i < kN; i += kPiece)
    {
        Vec<T, kPiece> const v = *reinterpret_cast<Vec<T, kPiece> const*>(src + i);
#pragma unroll
        for (int j = 0; j < kPiece; ++j)
        {
            out[i + j] = toFloat(v.v[j]);
        }
    }
}

//! kN floats stored at dst as T, in stores of at most 16 bytes (alignment as loadAsFloats).
template <typename T, int kN>
__device__ __forceinline__ void storeFromFloats(T* dst, float const (&in)[kN])
{
    constexpr int kPiece = (kN * sizeof(T) > 16) ? 16 / sizeof(T) : kN;
#pragma unroll
    for (int i = 0; i < kN; i += kPiece)
    {
        Vec<T, kPiece> v;
#pragma unroll
        for (int j = 0; j < kPiece; ++j)
        {
            v.v[j] = fromFloat<T>(in[i + j]);
        }
        *reinterpret_cast<Vec<T, kPiece>*>(dst + i) = v;
    }
}

//! Row c of the block's columns from n0: columns past N re-read row N - 1 (and store nothing).
//! Index: the type of the offsets into B and the scales (int for the wave GEMV: fewer registers).
template <typename Index>
__device__ __forceinline__ Index blockRow(NBitsProblem const& p, Index n0, int c)
{
    Index const n = static_cast<Index>(p.n);
    return n0 + c < n ? n0 + c : n - 1;
}

//! Scale s and offset -z * s of one quantization block for each of a block's kC rows.
template <int kC>
struct GroupScales
{
    float s[kC];
    float offset[kC];
};

//! The GroupScales of block blk of each row: loaded with the chunk's weights, so their latency
//! overlaps the weights' rather than following it.
template <typename T, int kBits, int kC, typename Index>
__device__ __forceinline__ GroupScales<kC> loadGroupScales(
    NBitsProblem const& p, Index n0, Index blk, Index blocks, Index zpRowBytes)
{
    GroupScales<kC> out;
#pragma unroll
    for (int c = 0; c < kC; ++c)
    {
        Index const row = blockRow(p, n0, c);
        out.s[c] = toFloat(static_cast<T const*>(p.scales)[row * blocks + blk]);
        out.offset[c] = -nbits::zeroPoint<T, kBits>(p, zpRowBytes, blocks, row, blk) * out.s[c];
    }
    return out;
}

//! Chunk `chunk` of each of the kC rows from n0 (kC independent 16-byte loads) and the GroupScales
//! of its kGroups quantization blocks, all issued before any is used so their latencies overlap.
template <typename T, int kBits, int kGroups, int kC, typename Index>
__device__ __forceinline__ void loadChunk(NBitsProblem const& p, Index n0, Index chunk, int log2Block,
    uint32_t (&words)[kC][kChunkWords], GroupScales<kC> (&scales)[kGroups])
{
    constexpr int kChunkCodes = kChunkBytes * 8 / kBits;
    constexpr int kGroupCodes = kChunkCodes / kGroups;
    Index const rowBytes = static_cast<Index>(p.k) * kBits / 8;
    Index const blocks = static_cast<Index>(p.k) >> log2Block;
    Index const zpRowBytes = (blocks * kBits + 7) / 8;
#pragma unroll
    for (int c = 0; c < kC; ++c)
    {
        uint4 const v = __ldg(reinterpret_cast<uint4 const*>(p.b + blockRow(p, n0, c) * rowBytes + chunk * kChunkBytes));
        words[c][0] = v.x;
        words[c][1] = v.y;
        words[c][2] = v.z;
        words[c][3] = v.w;
    }
#pragma unroll
    for (int g = 0; g < kGroups; ++g)
    {
        Index const blk = (chunk * kChunkCodes + g * kGroupCodes) >> log2Block;
        scales[g] = loadGroupScales<T, kBits, kC>(p, n0, blk, blocks, zpRowBytes);
    }
}

//! One quantization group of a chunk (kWords words of kC rows, codes k0 ..): acc[m][c] +=
//! s * sum(a * q) - z * s * sum(a). Rows of A past M read nothing (zeros).
template <typename T, int kBits, int kWords, int kM, int kC>
__device__ __forceinline__ void accumulateGroup(NBitsProblem const& p, uint32_t const (&words)[kC][kChunkWords],
    int firstWord, int64_t k0, GroupScales<kC> const& scale, float (&acc)[kM][kC])
{
    constexpr int kCodes = 32 / kBits;
    constexpr float kMagic = 8388608.0F; // 2^23
    float dot[kM][kC] = {};
    float sumA[kM] = {};
#pragma unroll
    for (int w = 0; w < kWords; ++w)
    {
        // The word's codes of every column first (converted once), then A's rows streamed over
        // them: kC * kCodes + kCodes live floats rather than kM * kCodes.
        float code[kC][kCodes];
#pragma unroll
        for (int c = 0; c < kC; ++c)
        {
            biasedCodes<kBits>(words[c][firstWord + w], code[c]);
#pragma unroll
            for (int j = 0; j < kCodes; ++j)
            {
                code[c][j] -= kMagic; // exact: 2^23 + q has q in its low mantissa bits
            }
        }
#pragma unroll
        for (int mi = 0; mi < kM; ++mi)
        {
            if (mi >= p.m)
            {
                break; // rows past M (uniform across the block): dot and sumA stay 0
            }
            float a[kCodes];
            loadAsFloats<T, kCodes>(static_cast<T const*>(p.a) + mi * p.k + k0 + w * kCodes, a);
#pragma unroll
            for (int j = 0; j < kCodes; ++j)
            {
                sumA[mi] += a[j];
#pragma unroll
                for (int c = 0; c < kC; ++c)
                {
                    dot[mi][c] = fmaf(a[j], code[c][j], dot[mi][c]);
                }
            }
        }
    }
#pragma unroll
    for (int c = 0; c < kC; ++c)
    {
#pragma unroll
        for (int mi = 0; mi < kM; ++mi)
        {
            acc[mi][c] = fmaf(scale.s[c], dot[mi][c], fmaf(scale.offset[c], sumA[mi], acc[mi][c]));
        }
    }
}

//! Warp sums, then the block's warps summed through shared memory; one thread per (m, c) stores.
template <typename T, int kM, int kC>
__device__ __forceinline__ void reduceAndStore(NBitsProblem const& p, int64_t n0, float (&acc)[kM][kC])
{
    __shared__ float partial[kGemvWarps][kM * kC];
    int const warp = threadIdx.x / 32;
    int const lane = threadIdx.x % 32;
#pragma unroll
    for (int mi = 0; mi < kM; ++mi)
    {
#pragma unroll
        for (int c = 0; c < kC; ++c)
        {
            float v = acc[mi][c];
#pragma unroll
            for (int offset = 16; offset > 0; offset /= 2)
            {
                v += __shfl_xor_sync(0xFFFFFFFFU, v, offset);
            }
            if (lane == 0)
            {
                partial[warp][mi * kC + c] = v;
            }
        }
    }
    __syncthreads();
    if (threadIdx.x >= kM * kC)
    {
        return;
    }
    int const mi = threadIdx.x / kC;
    int64_t const n = n0 + threadIdx.x % kC;
    if (mi >= p.m || n >= p.n)
    {
        return;
    }
    float v = 0.0F;
#pragma unroll
    for (int w = 0; w < kGemvWarps; ++w)
    {
        v += partial[w][threadIdx.x];
    }
    float const bias = p.bias != nullptr ? toFloat(static_cast<T const*>(p.bias)[n]) : 0.0F;
    static_cast<T*>(p.y)[mi * p.n + n] = fromFloat<T>(v + bias);
}

//! The GEMV: block x takes output columns kC * x .. + kC (columns past N re-read row N - 1
//! and store nothing); its threads stride over the rows' 16-byte chunks, each loading one chunk
//! of every column (kC independent 16-byte loads in flight) and the chunk's scales before
//! using any. kGroups: the quantization blocks in one chunk (2 for 4 bits at block 16, else 1).
template <typename T, int kBits, int kGroups, int kM>
__global__ void __launch_bounds__(kGemvThreads, kGemvMinBlocks<kM, kGroups>)
    gemvFastKernel(NBitsProblem p, int log2Block)
{
    constexpr int kChunkCodes = kChunkBytes * 8 / kBits;
    constexpr int kGroupCodes = kChunkCodes / kGroups;
    constexpr int kGroupWords = kChunkWords / kGroups;
    int64_t const chunks = p.k * kBits / 8 / kChunkBytes;
    constexpr int kC = kCols;
    int64_t const n0 = static_cast<int64_t>(blockIdx.x) * kC;
    float acc[kM][kC] = {};
    for (int64_t chunk = threadIdx.x; chunk < chunks; chunk += kGemvThreads)
    {
        uint32_t words[kC][kChunkWords];
        GroupScales<kC> scales[kGroups];
        loadChunk<T, kBits, kGroups, kC>(p, n0, chunk, log2Block, words, scales);
#pragma unroll
        for (int g = 0; g < kGroups; ++g)
        {
            accumulateGroup<T, kBits, kGroupWords, kM, kC>(
                p, words, g * kGroupWords, chunk * kChunkCodes + g * kGroupCodes, scales[g], acc);
        }
    }
    reduceAndStore<T, kM, kC>(p, n0, acc);
}

//! B dequantized into w[N, K] (A's type) for the GEMM: thread x of row y takes one 16-byte chunk
//! of B (32 codes at 4 bits) and writes its codes with 16-byte stores. Rows are the grid's y (a
//! stride past 65535), so no thread divides an index; scales and zero points are read once per
//! 32-bit word (a word never straddles a block), from L1. Same arithmetic as nbits::dequantizeKernel.
template <typename T, int kBits>
__global__ void dequantizeFastKernel(NBitsProblem p, T* w, int log2Block)
{
    constexpr int kCodes = 32 / kBits;
    constexpr uint32_t kMask = (1U << kBits) - 1U;
    int64_t const rowBytes = p.k * kBits / 8;
    int64_t const chunks = rowBytes / kChunkBytes;
    int64_t const blocks = p.k >> log2Block;
    int64_t const zpRowBytes = (blocks * kBits + 7) / 8;
    int64_t const chunk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (chunk >= chunks)
    {
        return;
    }
    for (int64_t n = blockIdx.y; n < p.n; n += gridDim.y)
    {
        uint4 const v = __ldg(reinterpret_cast<uint4 const*>(p.b + n * rowBytes + chunk * kChunkBytes));
        uint32_t const words[kChunkWords] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < kChunkWords; ++i)
        {
            int64_t const k = (chunk * kChunkWords + i) * kCodes;
            int64_t const blk = k >> log2Block;
            float const s = toFloat(static_cast<T const*>(p.scales)[n * blocks + blk]);
            float const z = nbits::zeroPoint<T, kBits>(p, zpRowBytes, blocks, n, blk);
            float out[kCodes];
#pragma unroll
            for (int j = 0; j < kCodes; ++j)
            {
                out[j] = (nbits::codeToFloat((words[i] >> (j * kBits)) & kMask) - z) * s;
            }
            storeFromFloats<T, kCodes>(w + n * p.k + k, out);
        }
    }
}

} // namespace nbits_fast
} // namespace trtplug
