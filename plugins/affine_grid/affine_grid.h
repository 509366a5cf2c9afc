// AffineGrid launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! grid[n, (d,) h, w, :] = theta[n] @ (x_w, y_h, (z_d,) 1) with base coordinates in [-1, 1]:
//! align_corners: -1 + 2i / (L - 1) (-1 when L == 1), else -1 + (2i + 1) / L.
//! 2-D (`is3d` false, `depth` ignored): theta N x 2 x 3, grid N x H x W x 2. 3-D: theta N x 3 x 4,
//! grid N x D x H x W x 3 (D may be 0: nothing to write). Float32 or float16 (theta and grid
//! alike); math in float32.
cudaError_t launchAffineGrid(DType dtype, void const* theta, void* grid, int64_t batch, int64_t depth, int64_t height,
    int64_t width, bool is3d, bool alignCorners, cudaStream_t stream) noexcept;

} // namespace trtplug
