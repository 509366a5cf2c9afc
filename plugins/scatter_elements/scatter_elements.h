// ScatterElements launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"
#include "common/scatter_reduce.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

constexpr int32_t kScatterMaxRank = 8;

//! `axis` made non-negative for `rank` into `resolved`; false when out of [-rank, rank).
inline bool scatterAxis(int32_t axis, int32_t rank, int32_t& resolved) noexcept
{
    resolved = axis < 0 ? axis + rank : axis;
    return axis >= -rank && axis < rank;
}

//! out = data, then for each element u of updates (shape updateDims, rank `rank`, like indices):
//! out[c with c[axis] = indices[c]] (reduction)= updates[c]. Negative indices count from the end;
//! indices outside [-dim, dim) are skipped. float32, float16, bfloat16, int32 or int64; `data` may equal `out`.
cudaError_t launchScatterElements(DType dtype, void const* data, int64_t const* indices, void const* updates, void* out,
    int32_t rank, int64_t const* dataDims, int64_t const* updateDims, int32_t axis, ScatterReduction reduction,
    cudaStream_t stream) noexcept;

} // namespace trtplug
