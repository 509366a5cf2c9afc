// MatMulNBits one-wave decode GEMV (included by matmul_nbits.cu only; TRTPLUG_NBITS_GEMV=wave):
// gemvFastKernel's layout and loads (matmul_nbits_fast.cuh) for one row of A, its per-thread work
// reordered to fit 64 registers without spills, so it compiles for 8 blocks of 128 threads per SM.
//
// Why: at K = N = 4096 the fast GEMV's 1024 blocks (4 columns each) at 96 registers fit 5 per SM,
// 660 slots on the H100's 132 SMs: 1.55 waves, and the second wave's loads wait for the first's
// blocks to finish. At 64 registers 8 blocks fit, 1056 slots: every block, so every 16-byte weight
// load (8 MiB), is issued in the first wave. The fast kernel compiled so spilled (9.53 us against
// 7.54): it converts the codes of all four columns of a word at once (32 floats) and keeps 64-bit
// row offsets. Here the four columns' loads and scales still go out together, but a word's codes
// are converted column by column (8 floats live), A's values of a word are converted and summed
// once for all four, and offsets are 32-bit. Codes become floats 2 + q / 8 (eighthCodes) at 4 bits,
// which needs no subtraction per code: the loop is about a quarter shorter (ptxas: 64 registers,
// no spills, for float, half and bfloat16 at 4 and 8 bits).
#pragma once

#include "matmul_nbits/matmul_nbits_fast.cuh"

#include <cstdint>

namespace trtplug
{
namespace nbits_wave
{

using nbits_fast::kChunkWords;
using nbits_fast::kCols;
using nbits_fast::kGemvThreads;

//! 8 blocks * 128 threads * 64 registers fill the 64K-register file of an sm_90 SM.
constexpr int kWaveMinBlocks = 8;

//! The 4-bit codes of a word as floats 2 + q / 8 (code 2i from byte i's low nibble, 2i + 1 from its
//! high one): each nibble moved to the top four mantissa bits, then one byte permute per code puts
//! it under the exponent of 2.0 (0x40000000). Unlike biasedCodes' 2^23 + q, the float is used as
//! is: sum(a * q) = 8 * sum(a * x) - 16 * sum(a), so no subtraction per code (a quarter of the
//! loop's instructions), at the price of rounding the sums of x in [2, 3.875] rather than of q (a
//! float32 emulation at K = 256..14336 put the error at ~1% of the float32 tolerance, as before).
__device__ __forceinline__ void eighthCodes(uint32_t word, float (&out)[8])
{
    constexpr uint32_t kTwo = 0x40000000U;            // bytes 4..7 of the permute: 00 00 00 40
    uint32_t const low = (word << 3) & 0x78787878U;   // codes 0, 2, 4, 6 at bits 3..6 of each byte
    uint32_t const high = (word >> 1) & 0x78787878U;  // codes 1, 3, 5, 7
#pragma unroll
    for (int j = 0; j < 4; ++j)
    {
        // result bytes: 00 (byte 4), 00 (byte 4), byte j, 40 (byte 7)
        out[2 * j] = __uint_as_float(__byte_perm(low, kTwo, 0x7044U | (j << 8)));
        out[2 * j + 1] = __uint_as_float(__byte_perm(high, kTwo, 0x7044U | (j << 8)));
    }
}

//! Code conversion of the wave GEMV: x = kScale * q + kBias exactly, as floats of one word's codes.
template <int kBits>
struct WaveCodes;

template <>
struct WaveCodes<4>
{
    static constexpr float kScale = 0.125F; //!< x = 2 + q / 8 (eighthCodes)
    static constexpr float kBias = 2.0F;
    static __device__ __forceinline__ void convert(uint32_t word, float (&out)[8])
    {
        eighthCodes(word, out);
    }
};

template <>
struct WaveCodes<8>
{
    static constexpr float kScale = 1.0F; //!< x = q: a byte does not fit the top mantissa bits
    static constexpr float kBias = 0.0F;  //!< under one exponent, so biasedCodes' 2^23 + q less 2^23
    static __device__ __forceinline__ void convert(uint32_t word, float (&out)[4])
    {
        nbits_fast::biasedCodes<8>(word, out);
#pragma unroll
        for (int j = 0; j < 4; ++j)
        {
            out[j] -= 8388608.0F; // 2^23, exact
        }
    }
};

//! One chunk (kChunkWords words of each of the kCols rows, codes k0 .., one quantization block)
//! of one row of A: acc[c] += s * sum(a * q) - z * s * sum(a), with sum(a * q) = (sum(a * x) -
//! kBias * sum(a)) / kScale. Words outer, columns inner: A's values of a word are loaded, converted
//! and summed once, then each column's codes are converted and used before the next column's, so
//! 8 + 8 floats are live rather than the fast kernel's 8 + 32.
template <typename T, int kBits>
__device__ __forceinline__ void accumulateChunk(NBitsProblem const& p, uint32_t const (&words)[kCols][kChunkWords],
    nbits_fast::GroupScales<kCols> const& scales, int64_t k0, float (&acc)[kCols])
{
    using Codes = WaveCodes<kBits>;
    constexpr int kCodes = 32 / kBits;
    T const* a = static_cast<T const*>(p.a) + k0;
    float dot[kCols] = {};
    float sumA = 0.0F;
#pragma unroll
    for (int w = 0; w < kChunkWords; ++w)
    {
        float av[kCodes];
        nbits_fast::loadAsFloats<T, kCodes>(a + w * kCodes, av);
#pragma unroll
        for (int j = 0; j < kCodes; ++j)
        {
            sumA += av[j];
        }
#pragma unroll
        for (int c = 0; c < kCols; ++c)
        {
            float x[kCodes];
            Codes::convert(words[c][w], x);
#pragma unroll
            for (int j = 0; j < kCodes; ++j)
            {
                dot[c] = fmaf(av[j], x[j], dot[c]);
            }
        }
    }
#pragma unroll
    for (int c = 0; c < kCols; ++c)
    {
        // s * (dot - kBias * sumA) / kScale - z * s * sumA; s / kScale is exact (a power of 2)
        float const s = scales.s[c] / Codes::kScale;
        acc[c] = fmaf(s, dot[c], fmaf(fmaf(-Codes::kBias, s, scales.offset[c]), sumA, acc[c]));
    }
}

//! The GEMV for M = 1 and one quantization block per chunk (matmul_nbits.cu: waveGemvTakes): block
//! x takes output columns kCols * x .. + kCols as gemvFastKernel does (its threads stride over the
//! rows' 16-byte chunks; every column's chunk and scales are loaded before any is used), compiled
//! for kWaveMinBlocks blocks per SM. Offsets are 32-bit (waveGemvTakes: B under 2 GiB): 64-bit row
//! offsets, hoisted out of the loop, cost the registers that made it spill.
template <typename T, int kBits>
__global__ void __launch_bounds__(kGemvThreads, kWaveMinBlocks) gemvWaveKernel(NBitsProblem p, int log2Block)
{
    constexpr int kChunkCodes = nbits_fast::kChunkBytes * 8 / kBits;
    int const chunks = static_cast<int>(p.k) * kBits / 8 / nbits_fast::kChunkBytes;
    int const n0 = static_cast<int>(blockIdx.x) * kCols;
    float acc[1][kCols] = {};
    for (int chunk = static_cast<int>(threadIdx.x); chunk < chunks; chunk += kGemvThreads)
    {
        uint32_t words[kCols][kChunkWords];
        nbits_fast::GroupScales<kCols> scales[1];
        nbits_fast::loadChunk<T, kBits, 1, kCols>(p, n0, chunk, log2Block, words, scales);
        accumulateChunk<T, kBits>(p, words, scales[0], chunk * kChunkCodes, acc[0]);
    }
    nbits_fast::reduceAndStore<T, 1, kCols>(p, static_cast<int64_t>(n0), acc);
}

} // namespace nbits_wave
} // namespace trtplug
