// Inverse launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"
#include "common/small_matrix.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! y[b] = inverse(x[b]) for `batch` row-major m x m matrices: Gauss-Jordan elimination with
//! partial pivoting in float32 (a singular matrix gives inf/NaN, as a division by a zero
//! pivot does); float32, float16 or bfloat16 data. m > kMaxMatrixDim: cudaErrorInvalidValue.
cudaError_t launchInverse(DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream) noexcept;

} // namespace trtplug
