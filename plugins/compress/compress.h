// Compress launcher (plain functions, no TensorRT types): the slices of x along one axis whose
// condition entry is true, packed; the number of them goes to a device size tensor.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! x viewed as [outer, axisLen, inner] (flattened Compress: outer = inner = 1, axisLen = size).
//! Condition entries past axisLen are ignored (ONNX lets the condition be shorter: the slices
//! past its end are dropped).
struct CompressShape
{
    int64_t outer;
    int64_t axisLen;
    int64_t inner;
    int64_t condLen;

    int64_t selectable() const noexcept { return axisLen < condLen ? axisLen : condLen; }
};

//! Field/attribute `axis` made non-negative for `rank` into `resolved` (kAxisAbsent stays: the
//! flattened form); false when out of [-rank, rank).
inline bool compressAxis(int32_t axis, int32_t rank, int64_t& resolved) noexcept
{
    resolved = axis == kAxisAbsent || axis >= 0 ? axis : axis + rank;
    return axis == kAxisAbsent || (axis >= -rank && axis < rank);
}

//! dims viewed as [outer, axisLen, inner] around `axis` (already non-negative, or
//! kAxisAbsent: [1, size, 1]).
inline CompressShape compressShapeOf(int32_t rank, int64_t const* dims, int64_t axis, int64_t condLen) noexcept
{
    CompressShape shape{1, 1, 1, condLen};
    for (int32_t d = 0; d < rank; ++d)
    {
        (axis == kAxisAbsent || d == axis ? shape.axisLen : d < axis ? shape.outer : shape.inner) *= dims[d];
    }
    return shape;
}

//! Scratch launchCompress needs: the selected indices and CUB's select temp storage.
size_t compressWorkspaceBytes(CompressShape const& shape) noexcept;

//! y[o, s, i] = x[o, sel[s], i] for the selected axis indices sel (ascending), y packed as
//! [outer, count, inner]; *count (device int32) = the number selected. y must have room for
//! outer * selectable() * inner elements (the upper bound TensorRT allocates). No host sync.
cudaError_t launchCompress(DType dtype, void const* x, bool const* condition, CompressShape const& shape, void* y,
    int32_t* count, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept;

} // namespace trtplug
