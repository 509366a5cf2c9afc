// MaxUnpool launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

constexpr int32_t kMaxUnpoolMaxSpatial = 6;

//! Scratch bytes launchMaxUnpool needs in `workspace` (a flag for the out-of-window fix-up).
constexpr size_t kMaxUnpoolWorkspaceBytes = 16;

//! y = 0, then for each of the `count` elements of x (planes, in...): the element at flat index
//! indices[i] of a tensor (planes, inferred...) goes to the same coordinates of y (planes, out...),
//! where out >= inferred per axis (output_shape may enlarge it). Indices outside the inferred
//! tensor are skipped. When each inferred length is a multiple of x's (kernel == stride, as
//! MaxPool feeds it) and out == inferred, every element of y is written once by the x element
//! whose window covers it, and a second pass moves indices that point outside their own window
//! (ONNX allows any); it needs `workspace` (kMaxUnpoolWorkspaceBytes, may be null: then y is
//! zeroed and scattered). Duplicates: one value wins (an out-of-window index wins over the window's
//! own). Float32 or float16; spatialRank <= kMaxUnpoolMaxSpatial.
cudaError_t launchMaxUnpool(DType dtype, void const* x, int64_t const* indices, void* y, int64_t count, int64_t planes,
    int32_t spatialRank, int64_t const* in, int64_t const* inferred, int64_t const* out, void* workspace,
    cudaStream_t stream) noexcept;

} // namespace trtplug
