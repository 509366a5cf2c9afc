// ai.onnx Attention (opset 23/24) launcher: plain function, no TensorRT types. It turns the
// op's layouts into views for the shared attention core (common/attention_core.h): 3-D inputs
// [batch, seq, heads * head] or 4-D BNSH, past ++ new keys/values (present, BNSH), attn_mask
// (bool or additive, broadcast; a short last axis masks the keys after it), the bottom-right
// causal mask and nonpad_kv_seqlen.
#pragma once

#include "common/attention_core.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

//! The input shapes of one call; rank 0 marks an absent optional input.
struct OnnxAttentionShapes
{
    TensorShape q;
    TensorShape k;
    TensorShape v;
    TensorShape mask;
    TensorShape pastKey;
    TensorShape pastValue;
    TensorShape nonpad;
};

//! What the shapes and head-count attributes mean.
struct OnnxAttentionDims
{
    bool rank3{false};
    int32_t batch{0};
    int32_t qHeads{0};
    int32_t kvHeads{0};
    int32_t qLen{0};
    int32_t newLen{0};  //!< keys in K/V
    int32_t pastLen{0}; //!< keys in past_key/past_value
    int32_t headDim{0};
    int32_t vHeadDim{0};
    int32_t maskKeys{0}; //!< attn_mask's last axis (the keys it covers), else total()
    int32_t total() const noexcept { return pastLen + newLen; }
};

//! Fills `d` from the shapes and the q_num_heads / kv_num_heads attributes (0: absent);
//! the problem ("" when they fit).
std::string onnxAttentionDims(
    OnnxAttentionShapes const& s, int32_t qNumHeads, int32_t kvNumHeads, OnnxAttentionDims& d);

struct OnnxAttentionArgs
{
    DType dtype{DType::kFLOAT32}; //!< of Q, K, V, past and the outputs
    DType maskType{DType::kBOOL}; //!< kBOOL (False masks) or additive (float32 or dtype)
    OnnxAttentionShapes shapes;
    OnnxAttentionDims dims;
    void const* q{nullptr};
    void const* k{nullptr};
    void const* v{nullptr};
    void const* mask{nullptr};      //!< null: absent
    void const* pastKey{nullptr};   //!< null: absent (with pastValue)
    void const* pastValue{nullptr};
    int64_t const* nonpad{nullptr}; //!< null: absent
    void* y{nullptr};
    void* presentKey{nullptr};   //!< null: not wanted
    void* presentValue{nullptr}; //!< null: not wanted
    void* qk{nullptr};           //!< null: not wanted
    int32_t qkMode{0};
    float scale{0.F}; //!< 0: 1 / sqrt(head)
    float softcap{0.F};
    bool causal{false};
};

//! Scratch bytes launchOnnxAttention needs for `a` (pointers not read).
size_t onnxAttentionWorkspaceSize(OnnxAttentionArgs const& a) noexcept;

cudaError_t launchOnnxAttention(OnnxAttentionArgs const& a, void* workspace, cudaStream_t stream) noexcept;

} // namespace trtplug
