// LinearAttention launcher (com.microsoft::LinearAttention): plain function, no TensorRT types. The IPluginV3
// adapter and the pybind11 binding both call it, so the kernel TensorRT runs is the kernel the tests run.
// Semantics (update rules, head mapping, gate shapes): plugins/linear_attention/spec.toml's header.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "linear_attention/op_glue.h" // glue_linear_attention::Params: the spec's attributes, generated at build time

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

//! The sizes of one call, derived and checked as ONNX Runtime 1.32's CPU kernel does.
struct LinearAttentionGeometry
{
    int64_t batch{0};
    int64_t tokens{0};
    int32_t qHeads{0};
    int32_t keyHeads{0};
    int32_t kvHeads{0};
    int32_t dk{0};
    int32_t dv{0};
    bool gated{false};        //!< update_rule gated / gated_delta: S = exp(decay) S first
    bool delta{false};        //!< update_rule delta / gated_delta: v - S^T k, scaled by beta
    bool decayPerKey{false};  //!< decay [B, T, Hkv * dk] (else [B, T, Hkv])
    bool betaPerHead{false};  //!< beta [B, T, Hkv] (else [B, T, 1])
    float scale{1.F};         //!< the attribute, or 1 / sqrt(dk) when it is 0

    int32_t outHeads() const noexcept { return qHeads > kvHeads ? qHeads : kvHeads; }
};

//! An absent optional tensor: none given, or the rewrite's 1-D empty stand-in.
inline bool linearAttentionAbsent(TensorShape const* s) noexcept
{
    return s == nullptr || (s->rank == 1 && s->d[0] == 0);
}

//! Fills `g` from the shapes (past/decay/beta null when absent); the reason they are refused, or "".
std::string linearAttentionGeometry(glue_linear_attention::Params const& p, TensorShape const& query,
    TensorShape const& key, TensorShape const& value, TensorShape const* pastState, TensorShape const* decay,
    TensorShape const* beta, LinearAttentionGeometry& g);

//! Largest d_k the kernel holds in registers.
constexpr int32_t kLinearAttentionMaxDk = 512;

//! Runs the recurrence: output [B, T, max(Hq, Hkv) * dv] (dtype), present_state [B, Hkv, dk, dv]
//! (stateType, as past_state). past_state, decay and beta are null when absent; `g` from
//! linearAttentionGeometry. float32 math, the state kept in registers across the tokens.
cudaError_t launchLinearAttention(DType dtype, DType stateType, LinearAttentionGeometry const& g, void const* query,
    void const* key, void const* value, void const* pastState, void const* decay, void const* beta, void* output,
    void* presentState, cudaStream_t stream) noexcept;

} // namespace trtplug
