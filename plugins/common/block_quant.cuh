// Block-quantized integer codes, the form ONNX Runtime's contrib ops store weights in (MatMulNBits'
// B, GatherBlockQuantized's table): uint8 bytes holding 8 / bits codes each, low bits first;
// one scale and one zero point per block of `blockSize` codes along the quantized axis, zero
// points packed like the codes along their last axis (rows padded to whole bytes), 2^(bits - 1)
// when absent. Device helpers on that layout, computing in float32 (the row kernel's also on the host,
// for its emulation). Included only from .cu files.
#pragma once

#include "common/launch.cuh"

#include <cstdint>

namespace trtplug
{

//! Code i (a flat index over the codes) of a packed uint8 stream whose rows hold whole bytes.
__device__ __forceinline__ int32_t packedCode(uint8_t const* packed, int64_t i, int32_t bits)
{
    int32_t const perByte = 8 / bits;
    int32_t const shift = static_cast<int32_t>(i % perByte) * bits;
    return (packed[i / perByte] >> shift) & ((1 << bits) - 1);
}

//! The zero point of the block at (row, col) of the scales viewed as [rows, cols], from
//! zero_points packed along that last axis (`rowBytes` bytes a row); 2^(bits - 1) when absent.
__device__ __forceinline__ int32_t blockZeroPoint(
    uint8_t const* zeroPoints, int64_t row, int64_t col, int64_t rowBytes, int32_t bits)
{
    return zeroPoints == nullptr ? 1 << (bits - 1) : packedCode(zeroPoints + row * rowBytes, col, bits);
}

//! The scale index of a code over a table viewed as [outer, axisLen, inner] along its quantized
//! axis: the code's block along the axis, the other indices unchanged (scales [outer, blocks, inner]).
struct QuantizedAxis
{
    int64_t axisLen{1};
    int64_t inner{1};
    int64_t blocks{1};
    int32_t blockSize{16};

    __device__ __forceinline__ int64_t scaleIndex(int64_t code) const
    {
        int64_t const inAxis = (code / inner) % axisLen;
        int64_t const outer = code / (inner * axisLen);
        return (outer * blocks + inAxis / blockSize) * inner + code % inner;
    }
};

//! (code - zero point) * scale, in float32.
__host__ __device__ __forceinline__ float dequantCode(int32_t code, int32_t zeroPoint, float scale)
{
    return static_cast<float>(code - zeroPoint) * scale;
}

//! Eight consecutive codes from one aligned load of `Bits` bytes (8 codes of Bits bits each).
template <int Bits>
struct EightCodes;

template <>
struct EightCodes<2>
{
    using Word = uint16_t;
};

template <>
struct EightCodes<4>
{
    using Word = uint32_t;
};

template <>
struct EightCodes<8>
{
    using Word = unsigned long long;
};

//! Code j (0..7) of a word EightCodes<Bits> loaded.
template <int Bits>
__host__ __device__ __forceinline__ int32_t codeOf(typename EightCodes<Bits>::Word word, int j)
{
    return static_cast<int32_t>((word >> (j * Bits)) & ((1u << Bits) - 1));
}

} // namespace trtplug
