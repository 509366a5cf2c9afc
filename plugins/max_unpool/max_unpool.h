// MaxUnpool launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

constexpr int32_t kMaxUnpoolMaxSpatial = 6;

//! y = 0, then for each of the `count` elements of x: the element at flat index indices[i] of a
//! tensor (planes, inferred...) goes to the same coordinates of y (planes, out...), where out >=
//! inferred per axis (output_shape may enlarge it). Indices outside the inferred tensor are
//! skipped; duplicates: one value wins. Float32 or float16; spatialRank <= kMaxUnpoolMaxSpatial.
cudaError_t launchMaxUnpool(DType dtype, void const* x, int64_t const* indices, void* y, int64_t count, int64_t planes,
    int32_t spatialRank, int64_t const* inferred, int64_t const* out, cudaStream_t stream) noexcept;

} // namespace trtplug
