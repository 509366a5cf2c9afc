// QuickGelu launcher (com.microsoft QuickGelu): plain function, no TensorRT types.
#pragma once

#include "common/elementwise.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! Y = X * sigmoid(alpha X); bias and skip unused. Float32 or float16; math in float32.
cudaError_t launchQuickGelu(DType dtype, ElementwiseArgs const& args, float alpha, cudaStream_t stream) noexcept;

} // namespace trtplug
