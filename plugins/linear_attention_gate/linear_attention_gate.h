// LinearAttentionGate (com.microsoft), the gates of Qwen3.5's gated-delta linear attention:
//   decay = decay_scale * softplus(a + dt_bias)   (dt_bias, decay_scale: float32 per head, a's last axis)
//   beta  = sigmoid(b)                            (only when the node uses the beta output)
// in float32, each output rounded once to a's type. Plain data and functions, no TensorRT types;
// the IPluginV3 adapter and the pybind11 binding fill the same struct.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

struct LinearAttentionGateArgs
{
    DType dtype{DType::kFLOAT32}; //!< of a, b, decay and beta
    void const* a{nullptr};
    float const* dtBias{nullptr};     //!< heads
    float const* decayScale{nullptr}; //!< heads
    void const* b{nullptr};           //!< a's shape; read only when beta is written
    void* decay{nullptr};
    void* beta{nullptr}; //!< null: the node does not use beta
    int64_t n{0};        //!< a's elements
    int64_t heads{0};    //!< a's last dim
};

//! Fills n and heads from the shapes; the reason they do not fit (ONNX Runtime's wording), or empty.
//! b may be absent (null) unless beta is wanted.
std::string linearAttentionGateShapes(LinearAttentionGateArgs& args, TensorShape const& a, TensorShape const& dtBias,
    TensorShape const& decayScale, TensorShape const* b, bool wantsBeta);

//! Launches on `stream` (nothing for an empty a); cudaErrorInvalidValue for arguments no kernel takes.
cudaError_t launchLinearAttentionGate(LinearAttentionGateArgs const& args, cudaStream_t stream) noexcept;

} // namespace trtplug
