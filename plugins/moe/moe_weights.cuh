// The expert weights MoE's grouped GEMMs read as their B operand, behind one interface so the same
// GEMM tiles run MoE's dense weights and QMoE's block-quantized ones (dequantized on load, never
// materialized). A weight row is `row` = expert * n + output column, `depth` values deep:
//   float at(row, k)                   one value (any k < depth)
//   void load8(row, k, float (&v)[8])  values k..k+7 (k a multiple of 8, k + 8 <= depth), only
//                                      when vectors() said so on the host
// Included only from the MoE pipeline (moe_pipeline.cuh and the GEMM headers).
#pragma once

#include "common/launch.cuh"

#include <cstdint>

namespace trtplug
{
namespace moe_detail
{

//! 8 values of T at p (16-byte aligned: one or two vector loads) as float.
template <typename T>
__device__ __forceinline__ void load8Floats(T const* p, float (&v)[8])
{
    constexpr int32_t kVec = 16 / sizeof(T);
#pragma unroll
    for (int32_t h = 0; h < 8; h += kVec)
    {
        Vec<T, kVec> const x = *reinterpret_cast<Vec<T, kVec> const*>(p + h);
#pragma unroll
        for (int32_t j = 0; j < kVec; ++j)
            v[h + j] = toFloat(x.v[j]);
    }
}

//! Dense [experts, n, depth] weights of the run dtype T (MoE).
template <typename T>
struct DenseWeights
{
    T const* w;
    int64_t depth;

    __device__ __forceinline__ float at(int64_t row, int64_t k) const { return toFloat(w[row * depth + k]); }

    __device__ __forceinline__ void load8(int64_t row, int64_t k, float (&v)[8]) const
    {
        load8Floats(w + row * depth + k, v);
    }

    bool vectors() const noexcept { return depth % 8 == 0 && isAligned(w, 16); }
};

//! QMoE's integer-quantized weights: uint8 codes [experts, n, depth * bits / 8] packed low bits
//! first, scales of the run dtype [experts, n, blocks] (blocks = depth / blockSize; one per column
//! when column-wise), zero points packed like the codes along the block axis ([experts, n,
//! zpRowBytes]) or, column-wise, along n ([experts, zpRowBytes]); absent: 2^(bits - 1).
template <typename T>
struct QuantWeights
{
    uint8_t const* codes;
    T const* scales;
    uint8_t const* zeroPoints; //!< null: the default zero point
    int64_t depth;
    int64_t n;          //!< columns per expert (a row's expert is row / n)
    int64_t blockSize;  //!< depth when column-wise
    int64_t blocks;     //!< scales per row: depth / blockSize
    int64_t zpRowBytes; //!< bytes of one zero-point row (block-wise) or one expert's (column-wise)
    int32_t bits;       //!< 2, 4 or 8
    bool columnwise;

    __device__ __forceinline__ int64_t rowBytes() const { return depth * bits / 8; }

    //! (q - zp) * scale's zp and scale for the block of (row, k).
    __device__ __forceinline__ void blockOf(int64_t row, int64_t k, float& zero, float& scale) const
    {
        int64_t const blk = k / blockSize;
        scale = toFloat(scales[row * blocks + blk]);
        if (zeroPoints == nullptr)
        {
            zero = static_cast<float>(1 << (bits - 1));
            return;
        }
        // The zero point's position in its packed stream: the block along the row, or the column
        // along the expert's stream when column-wise.
        int64_t const expert = row / n;
        int64_t const pos = columnwise ? row - expert * n : blk;
        uint8_t const* stream = zeroPoints + (columnwise ? expert : row) * zpRowBytes;
        int64_t const bit = pos * bits;
        zero = static_cast<float>((stream[bit / 8] >> (bit % 8)) & ((1 << bits) - 1));
    }

    __device__ __forceinline__ float at(int64_t row, int64_t k) const
    {
        float zero, scale;
        blockOf(row, k, zero, scale);
        int64_t const bit = k * bits;
        uint32_t const q = (codes[row * rowBytes() + bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
        return (static_cast<float>(q) - zero) * scale;
    }

    //! 8 codes are 2, 4 or 8 whole bytes at a multiple of their size (k % 8 == 0, depth % 8 == 0),
    //! all in one block (block sizes are multiples of 8).
    __device__ __forceinline__ void load8(int64_t row, int64_t k, float (&v)[8]) const
    {
        float zero, scale;
        blockOf(row, k, zero, scale);
        uint8_t const* p = codes + row * rowBytes() + k * bits / 8;
        uint64_t packed;
        if (bits == 8)
            packed = *reinterpret_cast<uint64_t const*>(p);
        else if (bits == 4)
            packed = *reinterpret_cast<uint32_t const*>(p);
        else
            packed = *reinterpret_cast<uint16_t const*>(p);
        uint32_t const mask = (1u << bits) - 1;
#pragma unroll
        for (int32_t j = 0; j < 8; ++j)
            v[j] = (static_cast<float>((packed >> (j * bits)) & mask) - zero) * scale;
    }

    bool vectors() const noexcept { return depth % 8 == 0 && isAligned(codes, 8); }
};

//! One E8M0 scale byte as float: 2^(e - 127); 255 is NaN (OCP Microscaling spec); 0 is 2^-127
//! (subnormal in float32, so not built from the exponent field).
__device__ __forceinline__ float e8m0ToFloat(uint8_t e)
{
    if (e == 0xFF)
        return __int_as_float(0x7FC00000);
    return e == 0 ? 5.877471754111438e-39F : __int_as_float(static_cast<int32_t>(e) << 23);
}

//! One FP4 E2M1 code (bit 3 the sign, then 2 exponent bits and 1 mantissa bit) as float: the
//! magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
__device__ __forceinline__ float e2m1ToFloat(uint32_t code)
{
    uint32_t const m = code & 7u;
    // Subnormal 0/0.5 (exponent 0), else (2 + mantissa) * 2^(exponent - 2).
    float const pow2 = __int_as_float(static_cast<int32_t>(125u + (m >> 1)) << 23); // 2^(exponent - 2)
    float const mag = m < 2 ? 0.5F * static_cast<float>(m) : static_cast<float>(2u + (m & 1u)) * pow2;
    return (code & 8u) ? -mag : mag;
}

//! QMoE's MXFP4 weights (quant_type "fp4", ONNX Runtime GenAI's moe_quant_type=mxfp4 builds): uint8
//! E2M1 codes [experts, depth, n / 2], two output columns a byte (even column in the low nibble),
//! E8M0 scales [experts, n, depth / 32] (one per 32 consecutive values along depth), optional
//! float32 per-expert global scales [experts] (null: 1). value = e2m1 * 2^(scale - 127) * global.
struct Mxfp4Weights
{
    static constexpr int64_t kBlock = 32;
    uint8_t const* codes;
    uint8_t const* scales;
    float const* global; //!< null: 1
    int64_t depth;
    int64_t n; //!< columns per expert (even)

    __device__ __forceinline__ float scaleOf(int64_t row, int64_t k) const
    {
        float const s = e8m0ToFloat(scales[row * (depth / kBlock) + k / kBlock]);
        return global == nullptr ? s : s * global[row / n];
    }

    //! The byte holding (row, k) and the shift of its nibble.
    __device__ __forceinline__ uint8_t const* byteOf(int64_t row, int64_t k, int32_t& shift) const
    {
        int64_t const expert = row / n;
        int64_t const col = row - expert * n;
        shift = static_cast<int32_t>(col & 1) * 4;
        return codes + (expert * depth + k) * (n / 2) + col / 2;
    }

    __device__ __forceinline__ float at(int64_t row, int64_t k) const
    {
        int32_t shift;
        uint8_t const* p = byteOf(row, k, shift);
        return e2m1ToFloat((*p >> shift) & 15u) * scaleOf(row, k);
    }

    //! 8 values along depth: 8 bytes a row of codes apart, all in one block (k % 8 == 0).
    __device__ __forceinline__ void load8(int64_t row, int64_t k, float (&v)[8]) const
    {
        float const scale = scaleOf(row, k);
        int32_t shift;
        uint8_t const* p = byteOf(row, k, shift);
        int64_t const stride = n / 2;
#pragma unroll
        for (int32_t j = 0; j < 8; ++j)
            v[j] = e2m1ToFloat((p[j * stride] >> shift) & 15u) * scale;
    }

    bool vectors() const noexcept { return depth % 8 == 0; }
};

} // namespace moe_detail
} // namespace trtplug
