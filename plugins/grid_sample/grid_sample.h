// Grid sampling (ai.onnx GridSample, mmcv::grid_sampler): plain functions, no TensorRT types. The
// IPluginV3 adapter and the pybind11 binding both check with checkGridSampleShapes and launch
// launchGridSample, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "grid_sample/op_glue.h" // glue_onnx_grid_sample / glue_mmcv_grid_sampler::Params

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

enum class GridMode : int32_t
{
    kLINEAR,
    kNEAREST,
    kCUBIC,
};

enum class GridPadding : int32_t
{
    kZEROS,
    kBORDER,
    kREFLECTION,
};

//! What one sampling does. onnxOrder: the padding step as onnx.reference takes it (nearest rounds
//! before padding; an outside coordinate is clamped/reflected for every mode, cubic included);
//! otherwise torch's (mmcv): coordinates padded then clipped before linear/nearest, cubic pads
//! only its taps (trtplug/protolib/grid_sampling.py, the prototype, says the same).
struct GridSampleConfig
{
    GridMode mode{GridMode::kLINEAR};
    GridPadding padding{GridPadding::kZEROS};
    bool alignCorners{false};
    bool onnxOrder{true};
};

GridSampleConfig gridSampleConfig(glue_onnx_grid_sample::Params const& p) noexcept;
GridSampleConfig gridSampleConfig(glue_mmcv_grid_sampler::Params const& p) noexcept;

//! "" when X (N, C, *S) with 1 <= len(S) <= 3 and grid (N, *O, len(S)) fit (and y, when given, is
//! (N, C, *O)), else the problem naming the tensor.
std::string checkGridSampleShapes(TensorShape const& x, TensorShape const& grid, TensorShape const* y);

//! Y (N, C, *O) = X sampled at grid's normalized points: one thread per output point, its taps'
//! offsets and weights computed once (float32) and reused over the C channels. X, grid and Y are
//! contiguous and share dtype (float32, float16, bfloat16); sums in float32.
cudaError_t launchGridSample(DType dtype, GridSampleConfig const& config, TensorShape const& xShape,
    TensorShape const& gridShape, void const* x, void const* grid, void* y, cudaStream_t stream) noexcept;

} // namespace trtplug
