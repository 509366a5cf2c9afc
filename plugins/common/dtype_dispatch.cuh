// One switch from the launchers' DType to a C++ element type: forFloatOrBf16Type for the float ops
// (fp32, fp16, bf16), forElementOrBf16Type for the ops that also take int32 and int64 (forFloatType and
// forElementType: the same without bf16). Included only from .cu files.
#pragma once

#include "common/dtype.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! f(T{}) for T the element type of `dtype` (float, __half), returning what f returns;
//! cudaErrorInvalidValue for other types.
template <class F>
cudaError_t forFloatType(DType dtype, F&& f)
{
    switch (dtype)
    {
    case DType::kFLOAT32: return f(float{});
    case DType::kFLOAT16: return f(__half{});
    default: return cudaErrorInvalidValue;
    }
}

//! forFloatType and __nv_bfloat16 for DType::kBFLOAT16: the dispatch of ops that take bf16.
template <class F>
cudaError_t forFloatOrBf16Type(DType dtype, F&& f)
{
    return dtype == DType::kBFLOAT16 ? f(__nv_bfloat16{}) : forFloatType(dtype, f);
}

//! forFloatType, and int32_t / int64_t for DType::kINT32 / kINT64.
template <class F>
cudaError_t forElementType(DType dtype, F&& f)
{
    switch (dtype)
    {
    case DType::kINT32: return f(int32_t{});
    case DType::kINT64: return f(int64_t{});
    default: return forFloatType(dtype, f);
    }
}

//! forElementType and __nv_bfloat16 for DType::kBFLOAT16: ops that take ints, fp32, fp16 and bf16.
template <class F>
cudaError_t forElementOrBf16Type(DType dtype, F&& f)
{
    return dtype == DType::kBFLOAT16 ? f(__nv_bfloat16{}) : forElementType(dtype, f);
}

} // namespace trtplug
