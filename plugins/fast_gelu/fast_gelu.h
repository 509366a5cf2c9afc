// FastGelu launcher: plain function, no TensorRT types. The IPluginV3 adapter and the pybind11
// binding both call it, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! y = 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))), v = x + bias, over n elements.
//! `bias` may be null; otherwise it has `biasLen` elements broadcast along the last axis
//! (n is a multiple of biasLen). Float32 or float16; math in float32.
cudaError_t launchFastGelu(DType dtype, void const* x, void const* bias, void* y, int64_t n, int64_t biasLen,
    cudaStream_t stream) noexcept;

} // namespace trtplug
