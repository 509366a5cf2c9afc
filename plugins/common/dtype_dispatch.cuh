// One switch from the launchers' DType to a C++ element type, for the ops that take the float and
// integer tensor types (fp32, fp16, int32, int64). Included only from .cu files.
#pragma once

#include "common/dtype.h"

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! f(T{}) for T the element type of `dtype` (float, __half, int32_t, int64_t), returning what f
//! returns; cudaErrorInvalidValue for other types.
template <class F>
cudaError_t forElementType(DType dtype, F&& f)
{
    switch (dtype)
    {
    case DType::kFLOAT32: return f(float{});
    case DType::kFLOAT16: return f(__half{});
    case DType::kINT32: return f(int32_t{});
    case DType::kINT64: return f(int64_t{});
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug
