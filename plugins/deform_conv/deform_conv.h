// Deformable convolution launcher (the three members of plugins/deform_conv/spec.toml): plain
// functions, no TensorRT types; the IPluginV3 adapter and the pybind11 binding both call them.
// Per image: the deformable im2col (bilinear samples times the mask) into the workspace, in the
// [C * kH * kW, oH * oW] layout the GEMM reads untransposed, then one cuBLAS GEMM per group
// (plugins/common/gemm.h) straight into Y, then the bias. This layout replaced [oH * oW, C * kH * kW]
// columns and a transposed GEMM (1.43x torchvision in fp16 on the H200, was 1.04x).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

//! The attributes every member maps onto (2-D). Plain data: the kernels take it by value.
struct DeformConvAttrs
{
    int32_t strides[2]{1, 1};
    int32_t pads[2]{0, 0}; //!< top, left: the bottom/right pads only size the output (offset's dims)
    int32_t dilations[2]{1, 1};
    int32_t group{1};
    int32_t offsetGroup{1};
    int32_t kernelShape[2]{0, 0}; //!< ai.onnx kernel_shape, checked against W's (0: not given)
};

//! Concrete sizes: X [N, C, H, W], W [OC, C / group, kH, kW], offset [N, 2 * og * kH * kW, oH, oW],
//! mask [N, og * kH * kW, oH, oW], bias [OC], Y [N, OC, oH, oW].
struct DeformConvGeometry
{
    int64_t batch{0}, channels{0}, height{0}, width{0};
    int64_t outChannels{0}, kernelH{0}, kernelW{0}, outH{0}, outW{0};
    DeformConvAttrs attrs;
    bool hasMask{false}; //!< false also for the rewrite's empty [0] placeholder of an absent input
    bool hasBias{false};
};

//! A tensor's dims as the geometry reads them (rank -1: absent).
struct DeformConvDims
{
    int32_t rank{-1};
    int64_t const* d{nullptr};
};

struct DeformConvTensors
{
    void const* x{nullptr};
    void const* w{nullptr};
    void const* offset{nullptr};
    void const* mask{nullptr}; //!< null: all ones (DCNv1)
    void const* bias{nullptr}; //!< null: zero
    void* y{nullptr};
};

//! Fills g from the shapes; the reason they do not fit each other or the attributes, else "".
std::string setDeformConvGeometry(DeformConvGeometry& g, DeformConvDims x, DeformConvDims w, DeformConvDims offset,
    DeformConvDims mask, DeformConvDims bias, DeformConvDims y, DeformConvAttrs const& attrs);

//! Workspace bytes: one image's columns, C * kH * kW * oH * oW elements of the tensor type.
size_t deformConvWorkspaceSize(DType dtype, DeformConvGeometry const& g) noexcept;

//! Y from the tensors (dtype float32, float16 or bfloat16, computed in float32); workspace holds
//! deformConvWorkspaceSize bytes. cudaErrorNotSupported when the build has no cuBLAS.
cudaError_t launchDeformConv(DType dtype, DeformConvGeometry const& g, DeformConvTensors const& t, void* workspace,
    cudaStream_t stream) noexcept;

} // namespace trtplug
