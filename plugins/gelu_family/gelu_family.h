// GELU-family launchers (com.microsoft Gelu, FastGelu, BiasGelu, QuickGelu): plain functions, no
// TensorRT types. Each is the shared elementwise kernel with one activation functor; float32 or
// float16, math in float32; `skip` unused.
#pragma once

#include "common/elementwise.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! Y = 0.5 X (1 + erf(X / sqrt 2)); bias unused.
cudaError_t launchGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

//! Y = 0.5 V (1 + tanh(sqrt(2/pi) (V + 0.044715 V^3))), V = X + bias; bias optional.
cudaError_t launchFastGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

//! C = 0.5 V (1 + erf(V / sqrt 2)), V = A + B with B (required) along the last axis.
cudaError_t launchBiasGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept;

//! Y = X * sigmoid(alpha X); bias unused.
cudaError_t launchQuickGelu(DType dtype, ElementwiseArgs const& args, float alpha, cudaStream_t stream) noexcept;

} // namespace trtplug
