// RoI Align (ai.onnx RoiAlign opset 10/16, mmcv::MMCVRoiAlign): plain functions, no TensorRT types.
// The IPluginV3 adapter and the pybind11 binding both check with checkRoiAlignShapes and launch
// launchRoiAlign, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "roi_align/op_glue.h" // glue_onnx_roi_align, glue_onnx_roi_align_opset10, glue_mmcv_roi_align

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

enum class RoiPool : int32_t
{
    kAVG,        //!< mean of the bin's bilinear samples
    kMAX,        //!< mmcv: the largest bilinear sample
    kMAX_CORNER, //!< ONNX: the largest weighted corner term w_i * v_i over the bin's samples
};

//! One RoI Align (trtplug/protolib/roi_align.py, the prototype, says the same). roiColumns 4:
//! rois (K, 4) boxes with a separate int64 batch_indices (K,); 5: mmcv's (batch, x1, y1, x2, y2).
struct RoiAlignConfig
{
    int32_t outputHeight{1};
    int32_t outputWidth{1};
    float spatialScale{1.F};
    int32_t samplingRatio{0}; //!< 0: ceil(region / bins) samples per bin and axis
    float offset{0.F};        //!< 0.5: half_pixel / aligned
    RoiPool pool{RoiPool::kAVG};
    int32_t roiColumns{4};
};

RoiAlignConfig roiAlignConfig(glue_onnx_roi_align::Params const& p) noexcept;
RoiAlignConfig roiAlignConfig(glue_onnx_roi_align_opset10::Params const& p) noexcept;
RoiAlignConfig roiAlignConfig(glue_mmcv_roi_align::Params const& p) noexcept;

//! "" when X (N, C, H, W), rois (K, roiColumns), batch (K,) (when roiColumns is 4) and y (when
//! given: (K, C, outputHeight, outputWidth)) fit, else the problem naming the tensor.
std::string checkRoiAlignShapes(RoiAlignConfig const& cfg, TensorShape const& x, TensorShape const& rois,
    TensorShape const* batch, TensorShape const* y);

//! Y = RoI Align: one thread per output element (region, channel, bin), summing or maxing its bin's
//! bilinear samples in float32. X, rois and Y share dtype (float32, float16, bfloat16); batch is
//! int64 (nullptr for 5-column rois). A batch index outside [0, N) gives zeros.
cudaError_t launchRoiAlign(DType dtype, RoiAlignConfig const& cfg, TensorShape const& xShape, int64_t nbRois,
    void const* x, void const* rois, int64_t const* batch, void* y, cudaStream_t stream) noexcept;

} // namespace trtplug
