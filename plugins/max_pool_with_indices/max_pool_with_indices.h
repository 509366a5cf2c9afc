// MaxPool-with-Indices launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

constexpr int32_t kMaxPoolMaxSpatial = 3;

//! Window geometry per spatial axis: input and output lengths, kernel, stride, dilation and the
//! leading pad (auto_pad and ceil_mode already resolved into `out` and `begin`).
struct PoolGeometry
{
    int32_t spatial{0};
    int64_t in[kMaxPoolMaxSpatial]{};
    int64_t out[kMaxPoolMaxSpatial]{};
    int32_t kernel[kMaxPoolMaxSpatial]{};
    int32_t stride[kMaxPoolMaxSpatial]{};
    int32_t dilation[kMaxPoolMaxSpatial]{};
    int32_t begin[kMaxPoolMaxSpatial]{};
    bool columnMajor{false}; //!< storage_order 1: spatial axes numbered first-fastest
};

//! y = window maxima of x (planes = N * C), indices = their flat positions in x (the first
//! maximum in window order wins ties). Float32 or float16; math of comparisons in float32.
cudaError_t launchMaxPoolWithIndices(DType dtype, void const* x, void* y, int64_t* indices, int64_t planes,
    PoolGeometry const& geometry, cudaStream_t stream) noexcept;

} // namespace trtplug
