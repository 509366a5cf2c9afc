// BiasAdd launcher (com.microsoft BiasAdd, Stable Diffusion UNet): plain function, no TensorRT types.
#pragma once

#include "common/elementwise.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! Y = X + bias + skip, bias (required) along the last axis, skip (required) X's shape.
//! Float32 or float16; the sum is formed in float32 and rounded once.
cudaError_t launchBiasAdd(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

} // namespace trtplug
