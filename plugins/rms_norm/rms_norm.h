// RMS-norm family launcher (SimplifiedLayerNormalization, RMSNormalization): plain data and a
// plain function, no TensorRT types; the IPluginV3 adapters and the pybind11 bindings fill it alike.
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! Y = X / sqrt(mean(X^2) + epsilon) * scale per row of `cols` elements (X flattened at `axis`).
struct RmsNormArgs
{
    DType dtype{DType::kFLOAT32}; //!< of x, scale and y: float32, float16 or bfloat16
    void const* x{nullptr};
    void const* scale{nullptr}; //!< cols elements
    void* y{nullptr};
    float* invStdVar{nullptr}; //!< optional, one per row (float32)
    int64_t rows{0};
    int64_t cols{0};
    float epsilon{1e-5F};
    //! GatedRMSNorm: Y *= silu(gate) (or sigmoid(gate)), gate shaped like X; null for plain RMS.
    void const* gate{nullptr};
    bool gateSilu{true};
};

//! rows x cols of a tensor of `rank` dims normalized over the axes from `axis` (negative counts
//! from the end); false when axis is out of range. Unknown (negative) dims give -1 counts.
inline bool flattenAtAxis(int64_t const* dims, int32_t rank, int64_t axis, int64_t& rows, int64_t& cols) noexcept
{
    if (rank < 1 || axis < -rank || axis >= rank)
    {
        return false;
    }
    int64_t const first = axis < 0 ? axis + rank : axis;
    rows = 1;
    cols = 1;
    for (int32_t i = 0; i < rank; ++i)
    {
        int64_t& part = i < first ? rows : cols;
        part = dims[i] < 0 || part < 0 ? -1 : part * dims[i];
    }
    return true;
}

//! Checks that do not need the GPU; the reason, or null when `a` is launchable.
inline char const* rmsNormArgsProblem(RmsNormArgs const& a) noexcept
{
    if (a.dtype != DType::kFLOAT32 && a.dtype != DType::kFLOAT16 && a.dtype != DType::kBFLOAT16)
    {
        return "dtype must be float32, float16 or bfloat16";
    }
    if (a.rows < 0 || a.cols < 0 || a.cols > (int64_t{1} << 31))
    {
        return "rows and cols must be >= 0 and cols <= 2^31";
    }
    if (a.rows > 0 && a.cols == 0)
    {
        return "the normalized axes (from axis on) must not be empty";
    }
    if (a.rows > 0 && (a.x == nullptr || a.scale == nullptr || a.y == nullptr))
    {
        return "X, scale and Y are required";
    }
    return nullptr;
}

//! Validates, then launches on `stream` (nothing for an empty X); cudaErrorInvalidValue for
//! arguments no kernel takes. Statistics in float32.
cudaError_t launchRmsNorm(RmsNormArgs const& a, cudaStream_t stream) noexcept;

} // namespace trtplug
