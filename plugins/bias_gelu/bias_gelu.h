// BiasGelu launcher (com.microsoft BiasGelu): plain function, no TensorRT types.
#pragma once

#include "common/elementwise.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! C = 0.5 V (1 + erf(V / sqrt 2)), V = A + B with B (required) along the last axis; skip
//! unused. Float32 or float16; math in float32.
cudaError_t launchBiasGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

} // namespace trtplug
