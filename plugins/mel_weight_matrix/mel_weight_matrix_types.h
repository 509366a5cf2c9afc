// output_datatype (an ONNX TensorProto element type) -> the launcher's DType, shared by the
// binding and the plugin; the spec's `choices` keep it to these three.
#pragma once

#include "common/dtype.h"

#include <cstdint>

namespace trtplug
{

inline bool melOutputDType(int32_t onnxElemType, DType& out) noexcept
{
    switch (onnxElemType)
    {
    case 1: out = DType::kFLOAT32; return true;
    case 10: out = DType::kFLOAT16; return true;
    case 16: out = DType::kBFLOAT16; return true;
    default: return false;
    }
}

} // namespace trtplug
