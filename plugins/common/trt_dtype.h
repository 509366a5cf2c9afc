// nvinfer1::DataType <-> trtplug::DType (the launchers' TensorRT-free element type) and the
// NumPy-style names the plugin host and log messages use.
#pragma once

#include "common/dtype.h"

#include <NvInferRuntime.h>

#include <cstring>

namespace trtplug
{

//! Maps a TensorRT type onto DType; false for types no launcher takes (fp8, int4, ...).
inline bool toDType(nvinfer1::DataType t, DType& out) noexcept
{
    using nvinfer1::DataType;
    switch (t)
    {
    case DataType::kFLOAT: out = DType::kFLOAT32; return true;
    case DataType::kHALF: out = DType::kFLOAT16; return true;
    case DataType::kBF16: out = DType::kBFLOAT16; return true;
    case DataType::kINT32: out = DType::kINT32; return true;
    case DataType::kINT64: out = DType::kINT64; return true;
    case DataType::kINT8: out = DType::kINT8; return true;
    case DataType::kUINT8: out = DType::kUINT8; return true;
    case DataType::kBOOL: out = DType::kBOOL; return true;
    default: return false;
    }
}

//! fp32 and fp16 (plugins that do not take bf16).
//! Whether trtplug has a DType for `t` (the ops that take any element type: Compress, NonZero).
inline bool hasDType(nvinfer1::DataType t) noexcept
{
    DType d{};
    return toDType(t, d);
}

inline bool isFloat(nvinfer1::DataType t) noexcept
{
    return t == nvinfer1::DataType::kFLOAT || t == nvinfer1::DataType::kHALF;
}

//! The float types the float plugins take: fp32, fp16 and bf16 (math in fp32 for all three).
inline bool isFloatOrBf16(nvinfer1::DataType t) noexcept
{
    return isFloat(t) || t == nvinfer1::DataType::kBF16;
}

//! The float types plus int32 and int64: the data types of the ops that move values without math
//! on them (scatter, crop/pad, unique, compress).
inline bool isFloatOrBf16OrIndex(nvinfer1::DataType t) noexcept
{
    return isFloatOrBf16(t) || t == nvinfer1::DataType::kINT32 || t == nvinfer1::DataType::kINT64;
}

inline nvinfer1::DataType toTrt(DType t) noexcept
{
    using nvinfer1::DataType;
    switch (t)
    {
    case DType::kFLOAT32: return DataType::kFLOAT;
    case DType::kFLOAT16: return DataType::kHALF;
    case DType::kBFLOAT16: return DataType::kBF16;
    case DType::kINT32: return DataType::kINT32;
    case DType::kINT64: return DataType::kINT64;
    case DType::kINT8: return DataType::kINT8;
    case DType::kUINT8: return DataType::kUINT8;
    case DType::kBOOL: return DataType::kBOOL;
    }
    return DataType::kFLOAT;
}

namespace detail
{
struct TrtTypeName
{
    nvinfer1::DataType type;
    char const* name;
};
// Names follow NumPy/ONNX spelling so messages read like the spec files.
inline constexpr TrtTypeName kTrtTypeNames[] = {
    {nvinfer1::DataType::kFLOAT, "float32"},
    {nvinfer1::DataType::kHALF, "float16"},
    {nvinfer1::DataType::kBF16, "bfloat16"},
    {nvinfer1::DataType::kINT8, "int8"},
    {nvinfer1::DataType::kUINT8, "uint8"},
    {nvinfer1::DataType::kINT32, "int32"},
    {nvinfer1::DataType::kINT64, "int64"},
    {nvinfer1::DataType::kBOOL, "bool"},
    {nvinfer1::DataType::kFP8, "float8e4m3"},
    {nvinfer1::DataType::kINT4, "int4"},
    {nvinfer1::DataType::kFP4, "float4e2m1"},
    {nvinfer1::DataType::kE8M0, "float8e8m0"},
};
} // namespace detail

inline char const* trtTypeName(nvinfer1::DataType t) noexcept
{
    for (auto const& entry : detail::kTrtTypeNames)
    {
        if (entry.type == t)
        {
            return entry.name;
        }
    }
    return "unknown";
}

inline bool trtTypeFromName(char const* name, nvinfer1::DataType& out) noexcept
{
    for (auto const& entry : detail::kTrtTypeNames)
    {
        if (std::strcmp(entry.name, name) == 0)
        {
            out = entry.type;
            return true;
        }
    }
    return false;
}

} // namespace trtplug
