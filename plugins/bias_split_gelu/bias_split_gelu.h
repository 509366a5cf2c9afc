// BiasSplitGelu launcher (com.microsoft BiasSplitGelu, Stable Diffusion UNet): plain function,
// no TensorRT types.
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! For each of `rows` rows of X (`width` elements, even) and bias (`width` elements):
//! V = X + bias, Y = V[:, :width/2] * gelu(V[:, width/2:]) with the exact (erf) GELU, so Y has
//! rows x width/2 elements. Float32 or float16; math in float32.
cudaError_t launchBiasSplitGelu(DType dtype, void const* x, void const* bias, void* y, int64_t rows, int64_t width,
    cudaStream_t stream) noexcept;

} // namespace trtplug
