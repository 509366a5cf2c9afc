// BitShift launchers (plain functions, no TensorRT types): Z = X << Y or X >> Y with broadcasting.
// A signed right shift is arithmetic; Y < 0 or Y >= bit width gives -1 (right shift of X < 0) or 0.
#pragma once

#include "common/int_elementwise.h"

#include <string>

namespace trtplug
{

cudaError_t launchBitShiftLeft(
    DType dtype, void const* x, void const* y, void* z, Broadcast const& shape, cudaStream_t stream) noexcept;
cudaError_t launchBitShiftRight(
    DType dtype, void const* x, void const* y, void* z, Broadcast const& shape, cudaStream_t stream) noexcept;

//! The launcher of attribute `direction` (the spec's choices: "LEFT", else "RIGHT").
inline IntElementwiseFn bitShiftLauncher(std::string const& direction) noexcept
{
    return direction == "LEFT" ? launchBitShiftLeft : launchBitShiftRight;
}

} // namespace trtplug
