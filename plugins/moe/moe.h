// MoE launcher (com.microsoft MoE, ONNX Runtime GenAI's gpt-oss experts): plain functions, no
// TensorRT types. The IPluginV3 adapter and the pybind11 binding both call them, so the kernel
// TensorRT runs is the kernel the tests run. Computed in float32 (see spec.toml for the op):
// route (a warp per token: softmax over the router logits, top-k), count routes per expert and
// place them grouped by expert, a grouped gather-GEMM for fc1 (and fc3) with the bias fused, the
// activation (stored in the run dtype), a grouped GEMM for fc2, then per token the k weighted
// expert rows summed in route order (deterministic: no atomics on the output). The grouped GEMMs
// read the per-expert counts on the device (graph-capturable): a warp-per-column GEMV for
// decode-sized route counts (moe_gemv.cuh), WMMA tiles for fp16/bf16 (moe_gemm_tc.cuh), CUDA-core
// tiles for float32 (moe_gemm.cuh); moe_pipeline.cuh's planFor chooses. QMoE (plugins/qmoe) runs
// the same pipeline on quantized weights.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

//! Largest expert count the routing kernel takes (64 per lane of its warp).
constexpr int64_t kMoeMaxExperts = 2048;

enum class MoeActivation : int32_t
{
    kRelu,
    kGelu,
    kSilu,
    kIdentity,
    kSwiglu,
    kGeglu, //!< gelu_tanh(gate) * linear, gate and linear from fused fc1 (Gemma 4's experts)
};

//! One MoE call: sizes and device pointers (absent optional inputs null).
struct MoeProblem
{
    int64_t tokens{0};  //!< rows of input: the product of its leading dims
    int64_t hidden{0};
    int64_t inter{0};   //!< fc2's last dim
    int64_t experts{0};
    int64_t fc1Cols{0}; //!< fc1's rows: 2 * inter for fused swiglu and geglu, else inter
    int32_t k{1};
    MoeActivation activation{MoeActivation::kRelu};
    int32_t swigluFusion{0};
    bool normalize{false};
    bool hasFc3{false}; //!< fc3 given (its shape non-empty): known before the pointers are
    float alpha{1.f};
    float beta{0.f};
    float limit{0.f};
    void const* input{nullptr};
    void const* router{nullptr};
    void const* routerWeights{nullptr}; //!< QMoE's router_weights [tokens, experts] (mixing weights) or null
    void const* fc1{nullptr};
    void const* fc1Bias{nullptr};
    void const* fc2{nullptr};
    void const* fc2Bias{nullptr};
    void const* fc3{nullptr};
    void const* fc3Bias{nullptr};
    void* output{nullptr};

    int64_t routes() const noexcept { return tokens * k; }
};

//! The attributes MoE and QMoE share (their glue Params: moeAttrs).
struct MoeAttrs
{
    int32_t k{1};
    std::string activation;
    int32_t swigluFusion{0};
    bool normalize{false};
    float alpha{1.f};
    float beta{0.f};
    float limit{0.f};
};

template <class Params>
MoeAttrs moeAttrs(Params const& p)
{
    return MoeAttrs{static_cast<int32_t>(p.k), p.activation_type, static_cast<int32_t>(p.swiglu_fusion),
        p.normalize_routing_weights != 0, p.activation_alpha, p.activation_beta, p.swiglu_limit};
}

//! The tensor shapes of one call, absent optional inputs as empty shapes (rank 0, volume 0).
struct MoeShapes
{
    TensorShape input, router, fc1, fc1Bias, fc2, fc2Bias, fc3, fc3Bias, output;
};

//! Sizes and attributes of a call, checked; a one-line reason naming the tensor when a shape or
//! combination is wrong, else "" (out then holds the sizes; the pointers stay to be set).
std::string moeCheckShapes(MoeAttrs const& a, MoeShapes const& s, MoeProblem& out);

//! Scratch bytes a call of these sizes needs (routes, per-expert lists, the expert activations).
size_t moeWorkspaceBytes(MoeProblem const& p) noexcept;

//! output for `p`; dtype is every tensor's (float32, float16, bfloat16). `workspace` holds
//! moeWorkspaceBytes(p).
cudaError_t launchMoe(DType dtype, MoeProblem const& p, void* workspace, size_t workspaceBytes,
    cudaStream_t stream) noexcept;

} // namespace trtplug
