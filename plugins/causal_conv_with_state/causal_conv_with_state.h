// CausalConvWithState launcher (com.microsoft::CausalConvWithState): plain functions, no TensorRT
// types. The IPluginV3 adapter and the pybind11 binding both call them, so the kernel TensorRT runs
// is the kernel the tests run.
#pragma once

#include "causal_conv_with_state/op_glue.h" // glue_causal_conv_with_state::Params, generated from the spec
#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

//! One call's extents. The tensors are (batch, positions, channels) grids in either layout: the
//! input/output with `length` positions, the states with `state` = (taps - 1) * dilation.
struct CausalConvGeometry
{
    int64_t batch{0};
    int64_t channels{0};
    int64_t length{0};
    int64_t taps{0};
    int64_t dilation{1};
    int64_t state{0};
    bool channelsLast{false};
};

//! The geometry of input (B, C, L), or (B, L, d1..dn) channels-last, and weight (C, 1, k); "" or
//! why the shapes do not fit the op (bias must be absent or (C), past_state absent or the state's
//! shape; an empty tensor counts as absent, as the rewrite's placeholders are).
std::string causalConvGeometry(glue_causal_conv_with_state::Params const& p, TensorShape const& input,
    TensorShape const& weight, TensorShape const* bias, TensorShape const* pastState, CausalConvGeometry& g);

//! present_state's shape: (B, C, S), or (B, S, d1..dn) channels-last.
TensorShape causalConvStateShape(CausalConvGeometry const& g, TensorShape const& input);

//! output[t] = act(bias + sum_j weight[j] * v[t + j * dilation]) per (batch, channel), v = [past | input]
//! (zeros for a null past), and present_state = v's last `state` positions. dtype is the type of
//! every tensor (float32, float16, bfloat16); bias and pastState may be null.
cudaError_t launchCausalConvWithState(DType dtype, glue_causal_conv_with_state::Params const& p,
    CausalConvGeometry const& g, void const* input, void const* weight, void const* bias, void const* pastState,
    void* output, void* presentState, cudaStream_t stream) noexcept;

} // namespace trtplug
