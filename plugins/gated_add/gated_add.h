// GatedAdd (com.microsoft, plain mode), ONNX Runtime GenAI's Qwen3.5-MoE shared-expert combine:
//   output = X + round_to_T(Y * gate)     X, Y (..., C); gate (..., 1), one value per row of C
// in float32, the product rounded to T before the add (as separate ONNX Mul and Add do) and the sum
// rounded once. Plain data and functions, no TensorRT types; the IPluginV3 adapter and the pybind11
// binding fill the same struct.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

struct GatedAddArgs
{
    DType dtype{DType::kFLOAT32}; //!< of X, Y, gate and output
    void const* x{nullptr};
    void const* y{nullptr};    //!< X's shape
    void const* gate{nullptr}; //!< one value per row: n / cols elements
    void* out{nullptr};        //!< X's shape
    int64_t n{0};              //!< X's elements
    int64_t cols{0};           //!< X's last dim, C
};

//! Fills n and cols from the shapes; the reason they do not fit (ONNX Runtime's wording, with the
//! shapes), or empty.
std::string gatedAddShapes(GatedAddArgs& args, TensorShape const& x, TensorShape const& y, TensorShape const& gate);

//! Launches on `stream` (nothing for an empty X); cudaErrorInvalidValue for arguments no kernel takes.
cudaError_t launchGatedAdd(GatedAddArgs const& args, cudaStream_t stream) noexcept;

} // namespace trtplug
