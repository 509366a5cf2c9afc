// Element types shared by kernels, launchers and bindings. Free of TensorRT types so the
// launchers stay plain functions; the IPluginV3 adapter maps nvinfer1::DataType onto this.
#pragma once

#include <cstddef>
#include <cstdint>

namespace trtplug
{

enum class DType : int32_t
{
    kFLOAT32 = 0,
    kFLOAT16 = 1,
    kINT32 = 2,
    kINT64 = 3,
    kINT8 = 4,
    kUINT8 = 5,
    kBOOL = 6,
    kBFLOAT16 = 7,
};

inline size_t dtypeSize(DType t) noexcept
{
    switch (t)
    {
    case DType::kFLOAT32:
    case DType::kINT32: return 4;
    case DType::kFLOAT16:
    case DType::kBFLOAT16: return 2;
    case DType::kINT64: return 8;
    case DType::kINT8:
    case DType::kUINT8:
    case DType::kBOOL: return 1;
    }
    return 0;
}

//! The float types the float launchers take: fp32, fp16 and bf16 (math in fp32 for all three).
inline bool isFloatDType(DType t) noexcept
{
    return t == DType::kFLOAT32 || t == DType::kFLOAT16 || t == DType::kBFLOAT16;
}

inline char const* dtypeName(DType t) noexcept
{
    switch (t)
    {
    case DType::kFLOAT32: return "float32";
    case DType::kFLOAT16: return "float16";
    case DType::kINT32: return "int32";
    case DType::kINT64: return "int64";
    case DType::kINT8: return "int8";
    case DType::kUINT8: return "uint8";
    case DType::kBOOL: return "bool";
    case DType::kBFLOAT16: return "bfloat16";
    }
    return "unknown";
}

} // namespace trtplug
