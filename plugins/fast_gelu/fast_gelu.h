// FastGelu launcher: plain function, no TensorRT types. The IPluginV3 adapter and the pybind11
// binding both call it, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/elementwise.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! Y = 0.5 V (1 + tanh(sqrt(2/pi) (V + 0.044715 V^3))), V = X + bias; bias optional, skip
//! unused. Float32 or float16; math in float32.
cudaError_t launchFastGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

} // namespace trtplug
