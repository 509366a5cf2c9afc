// Gelu launcher (com.microsoft Gelu): plain function, no TensorRT types.
#pragma once

#include "common/elementwise.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! Y = 0.5 X (1 + erf(X / sqrt 2)); bias and skip unused. Float32 or float16; math in float32.
cudaError_t launchGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

} // namespace trtplug
