// NonZero launcher (plain functions, no TensorRT types): the coordinates of x's non-zero elements
// as int64 [rank, N], in row-major order; N goes to a device size tensor.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! Most elements the launcher takes: N lands in an int32 size tensor.
constexpr int64_t kNonZeroMaxElements = INT32_MAX;

//! Scratch launchNonZero needs for an x of `elements` elements (the selected flat indices and CUB's
//! select temp storage); monotone in `elements`, so a plugin may size it from x's largest shape.
size_t nonZeroWorkspaceBytes(int64_t elements) noexcept;

//! y[d, j] = coordinate d of x's j-th non-zero element (row-major order), y packed as [rank, N];
//! *count = N (device int32). Floats test their value (-0.0 is zero, NaN is not), other types their
//! bytes. y needs room for rank * elements (the upper bound TensorRT allocates); a 0-D x writes only
//! the count (its output [0, N] holds nothing). No host synchronization.
cudaError_t launchNonZero(DType dtype, void const* x, TensorShape const& shape, int64_t* y, int32_t* count,
    void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept;

} // namespace trtplug
