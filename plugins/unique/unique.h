// Unique launcher (plain functions, no TensorRT types): ai.onnx Unique over the whole tensor or
// over the slices along one axis, with a data-dependent output count written on the device.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! X viewed as (outer, rows, inner): Unique compares the `rows` slices X[:, r, :] (each
//! outer * inner elements, lexicographically in C order). Flattened Unique is (1, volume, 1).
struct UniqueDims
{
    int64_t outer{1};
    int64_t rows{0};
    int64_t inner{1};

    int64_t rowLength() const noexcept { return outer * inner; }
};

//! X of `rank` dims `shape` viewed for `axis` (kAxisAbsent or -rank..rank-1); false when the
//! axis is out of range.
inline bool uniqueDims(int64_t const* shape, int32_t rank, int32_t axis, UniqueDims& dims) noexcept
{
    dims = UniqueDims{1, 1, 1};
    if (axis == kAxisAbsent)
    {
        for (int32_t d = 0; d < rank; ++d)
        {
            dims.rows *= shape[d];
        }
        return true;
    }
    if (axis < -rank || axis >= rank)
    {
        return false;
    }
    int32_t const a = axis < 0 ? axis + rank : axis;
    for (int32_t d = 0; d < rank; ++d)
    {
        (d < a ? dims.outer : d == a ? dims.rows : dims.inner) *= shape[d];
    }
    return true;
}

//! Largest `rows` the launcher takes (row ids are int32 on the device).
constexpr int64_t kUniqueMaxRows = (int64_t{1} << 31) - 2;

//! Scratch bytes launchUnique needs for `dims` (0 when dtype or dims are invalid); monotone in
//! each dim, so a plugin may size it from the inputs' largest shapes.
size_t uniqueWorkspaceBytes(DType dtype, UniqueDims dims) noexcept;

//! Unique of `x` (float32, float16, bfloat16, int32 or int64), outputs packed for the actual count U:
//! y (outer, U, inner) of x's type; indices (U): first occurrence of each unique slice;
//! inverse (rows): the unique slice of each row; counts (U); *count = U (device int32).
//! sorted: ascending (slices lexicographically), else in order of first occurrence. Floats
//! compare as NumPy's unique does: -0.0 == +0.0, every NaN equal to every NaN, NaNs last.
//! Each output must have room for U = rows; no host synchronisation, no allocation (CUDA
//! graph safe). Returns cudaErrorInvalidValue for bad dims or a workspace below
//! uniqueWorkspaceBytes(dtype, dims).
cudaError_t launchUnique(DType dtype, void const* x, UniqueDims dims, bool sorted, void* y, int64_t* indices,
    int64_t* inverse, int64_t* counts, int32_t* count, void* workspace, size_t workspaceBytes,
    cudaStream_t stream) noexcept;

} // namespace trtplug
