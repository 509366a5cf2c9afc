// GatedRMSNorm (com.microsoft): Y = X * rsqrt(mean(X^2) + epsilon) * scale * act(gate) over each
// contiguous group of C = |scale| elements of X's last axis (per-head norm of a packed [.., H * C]
// tensor), act silu/swish or sigmoid. It is the RMS-norm family's launcher (rms_norm/rms_norm.h:
// the shared row kernel, common/row_norm.cuh) with the gate as its epilogue factor; this header
// only maps the node's shapes onto its rows. Plain host code, no TensorRT types.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "gated_rms_norm/op_glue.h" // glue_gated_rms_norm::Params: the spec's attributes, generated at build time
#include "rms_norm/rms_norm.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

//! Rows of C = scale's element count: X's elements / C. The reason the shapes do not fit (as
//! ONNX Runtime's CPU kernel words it), or empty.
std::string gatedRmsNormRows(
    TensorShape const& x, TensorShape const& scale, TensorShape const& gate, int64_t& rows, int64_t& cols);

//! The activation attribute as the epilogue's flag: true for silu/swish, false for sigmoid.
bool gateIsSilu(glue_gated_rms_norm::Params const& p) noexcept;

//! Launches on `stream` (nothing for an empty X); cudaErrorInvalidValue for shapes that do not fit.
cudaError_t launchGatedRmsNorm(DType dtype, glue_gated_rms_norm::Params const& p, void const* x,
    TensorShape const& xDims, void const* scale, TensorShape const& scaleDims, void const* gate,
    TensorShape const& gateDims, void* y, cudaStream_t stream) noexcept;

} // namespace trtplug
