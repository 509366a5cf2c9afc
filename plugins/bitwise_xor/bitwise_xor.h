// BitwiseXor launcher (plain function, no TensorRT types): C = A ^ B with broadcasting.
#pragma once

#include "common/int_elementwise.h"

namespace trtplug
{

cudaError_t launchBitwiseXor(
    DType dtype, void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept;

} // namespace trtplug
