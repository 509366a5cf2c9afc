// CenterCropPad launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

constexpr int32_t kCenterCropPadMaxRank = 8;

//! y[i] = x[i + offset] per axis where that lies inside x, else 0: offset[d] = (inDims[d] -
//! outDims[d]) / 2 truncated toward zero (a centred crop when positive, a centred pad when
//! negative). Any element type of dtypeSize 1, 2, 4 or 8; rank <= kCenterCropPadMaxRank.
cudaError_t launchCenterCropPad(DType dtype, void const* x, void* y, int32_t rank, int64_t const* inDims,
    int64_t const* outDims, cudaStream_t stream) noexcept;

} // namespace trtplug
