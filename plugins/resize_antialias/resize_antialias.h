// Antialiased Resize (ai.onnx Resize, antialias = 1, linear or cubic): plain functions, no
// TensorRT types. The IPluginV3 adapter and the pybind11 binding both plan with planResize and
// launch with launchResizeAntialias, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "resize_antialias/op_glue.h" // glue_resize_antialias::Params: the spec's attributes

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

enum class ResizeCoord : int32_t
{
    kHALF_PIXEL,
    kHALF_PIXEL_SYMMETRIC,
    kPYTORCH_HALF_PIXEL,
    kALIGN_CORNERS,
    kASYMMETRIC,
    kTF_CROP_AND_RESIZE,
};

//! What the kernels need of one resize: per-axis lengths, scales and roi, the mode's constants,
//! and the resized axes in the order the passes take them (identity axes are skipped).
struct ResizePlan
{
    static constexpr int32_t kMaxRank = TensorShape::kMaxRank;
    int32_t rank{0};
    int64_t in[kMaxRank]{};
    int64_t out[kMaxRank]{};
    double scale[kMaxRank]{};
    float roiStart[kMaxRank]{};
    float roiEnd[kMaxRank]{};
    bool cubic{false};
    ResizeCoord coord{ResizeCoord::kHALF_PIXEL};
    float cubicA{-0.75F};
    bool excludeOutside{false};
    float extrapolation{0.F};
    bool listed[kMaxRank]{}; //!< named by axes (every axis without it)
    int32_t nbPasses{0};
    int32_t passAxis[kMaxRank]{};
};

//! Fills `plan` for input dims `x` from the attributes (scales or sizes, axes, roi,
//! keep_aspect_ratio_policy, modes): output dims, scales, pass order. Returns the problem
//! (naming the attribute) or "".
std::string planResize(ResizePlan& plan, TensorShape const& x, glue_resize_antialias::Params const& p);

//! "" when `y` is the planned output shape, else the problem.
std::string checkResizeOutput(ResizePlan const& plan, TensorShape const& y);

//! Scratch the passes need: a fixed 512 KiB for the per-axis tap tables, then the intermediates
//! between passes, room for float32.
size_t resizeWorkspaceBytes(ResizePlan const& plan) noexcept;

//! Y = Resize(X): one pass per resized axis (the tensor as [outer, in, inner] -> [outer, out,
//! inner]), each output element a weighted sum over its window of taps (support widened by
//! 1 / scale when downscaling), weights from float64 source coordinates, float32 accumulation,
//! intermediates in X's type in `workspace` (resizeWorkspaceBytes). The weights are computed
//! once per output index into per-axis tap tables when they fit the workspace's table room,
//! else per element. dtype: X's and Y's type (float32, float16, bfloat16, uint8: float32
//! intermediates, the output rounded half to even and clamped to 0..255, as onnx.reference does).
cudaError_t launchResizeAntialias(
    DType dtype, ResizePlan const& plan, void const* x, void* y, void* workspace, cudaStream_t stream) noexcept;

} // namespace trtplug
