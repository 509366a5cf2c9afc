// Det launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"
#include "common/small_matrix.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! y[b] = det(x[b]) for `batch` row-major m x m matrices (m = 0: 1). LU with partial pivoting
//! in float32; float32, float16 or bfloat16 data. m > kMaxMatrixDim: cudaErrorInvalidValue.
cudaError_t launchDet(DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream) noexcept;

} // namespace trtplug
