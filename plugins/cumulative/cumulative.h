// CumSum / CumProd launcher (ai.onnx): a plain function, no TensorRT types. The IPluginV3 adapter
// and the pybind11 binding both call it, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

enum class ScanOp : int32_t
{
    kSum = 0,
    kProd = 1,
};

//! What one scan does besides its operator: the ONNX attributes.
struct ScanOptions
{
    ScanOp op{ScanOp::kSum};
    bool exclusive{false}; //!< y[i] leaves x[i] out (the first is the identity: 0 or 1)
    bool reverse{false};   //!< scanned from the end of the axis
};

//! y = the running sum/product of x along the axis held by `axis`: a 0-D (or one-element) int32 or
//! int64 tensor in device memory, read by the kernel, so no host sync is needed (negative counts
//! from the end). x and y have `shape` (rank 1..8), contiguous. float32/float16/bfloat16
//! accumulate in float32; int32/int64 wrap around. Rows along the last axis are scanned one warp
//! per row in tiles of 256 elements (512 for fp16/bf16; lane-local runs, a warp scan, the carry of
//! the previous tiles); any other axis (and short rows) one thread per (outer, inner) column,
//! coalesced across the inner index; few long columns are split over a block's 8 warps, few long
//! rows over a warp per chunk of 4 tiles (three launches: cumulative.cu). A 1-D x with a workspace
//! of cumulativeWorkspaceBytes (or more) is scanned in one pass instead (decoupled look-back:
//! lookback_scan.cuh); without one (null, or too small) it takes the paths above. x and y must not
//! overlap unless they are the same array.
//! An out-of-range axis makes y NaN (floats) or the type's minimum (integers).
cudaError_t launchCumulative(ScanOptions const& options, DType dtype, void const* x, TensorShape const& shape,
    void const* axis, DType axisType, void* y, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept;

//! Device scratch launchCumulative uses for x of `shape`: the one-pass 1-D scan's tile status
//! (about 8 bytes per 16 KiB of x, 16 for int64); 0 for any other rank and for an empty x.
size_t cumulativeWorkspaceBytes(DType dtype, TensorShape const& shape) noexcept;

} // namespace trtplug
