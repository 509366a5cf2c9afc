// BitwiseNot launcher (plain function, no TensorRT types): Y = ~X.
#pragma once

#include "common/int_elementwise.h"

namespace trtplug
{

//! `b` is ignored (the shared integer elementwise signature); `shape` is X's with itself.
cudaError_t launchBitwiseNot(
    DType dtype, void const* x, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept;

} // namespace trtplug
