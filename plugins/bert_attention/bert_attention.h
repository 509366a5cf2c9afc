// com.microsoft Attention (BERT form) launcher: plain function, no TensorRT types. A cuBLAS
// projection input @ weights (+ bias) into a [B, S, Dq + Dk + Dv] scratch, past ++ new keys and
// values into present, mask_index turned into an additive float32 score bias (mask_filter_value
// on masked keys, attention_bias folded in); then the
// shared attention core (common/attention_core.h) over head views of the projection.
#pragma once

#include "common/attention_core.h"
#include "common/key_mask.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trtplug
{

//! Input shapes in spec order; rank 0 marks an absent optional input.
struct BertShapes
{
    TensorShape input;
    TensorShape weights;
    TensorShape bias;
    TensorShape maskIndex;
    TensorShape past;
    TensorShape attentionBias;
};

using BertMask = KeyMask;

struct BertDims
{
    BertMask mask{BertMask::kNone};
    int32_t batch{0};
    int32_t heads{0};
    int32_t seq{0};
    int32_t pastLen{0};
    int32_t width{0};   //!< D, the input's hidden size
    int32_t qHidden{0}; //!< Dq (= Dk)
    int32_t vHidden{0}; //!< Dv
    int32_t maskSide{0}; //!< M of a Megatron mask
    int32_t total() const noexcept { return pastLen + seq; }
    int32_t projWidth() const noexcept { return 2 * qHidden + vHidden; }
    int32_t headDim() const noexcept { return heads > 0 ? qHidden / heads : 0; }
    int32_t vHeadDim() const noexcept { return heads > 0 ? vHidden / heads : 0; }
    //! Rows mask_index itself gives: S for per-query forms, 1 otherwise, 0 for none.
    int32_t maskRows() const noexcept;
};

//! Fills `d` from the shapes, num_heads and qkv_hidden_sizes; the problem ("" when they fit).
//! `present`: the node writes present, which needs equal Q and V hidden sizes.
std::string bertDims(
    BertShapes const& s, int32_t numHeads, std::vector<int32_t> const& qkvSizes, bool present, BertDims& d);

struct BertArgs
{
    DType dtype{DType::kFLOAT32};
    BertShapes shapes;
    BertDims dims;
    void const* input{nullptr};
    void const* weights{nullptr};
    void const* bias{nullptr};          //!< null: absent
    int32_t const* maskIndex{nullptr};  //!< null: absent
    void const* past{nullptr};          //!< null: absent
    void const* attentionBias{nullptr}; //!< null: absent
    void* output{nullptr};
    void* present{nullptr}; //!< null: not wanted
    float scale{0.F};       //!< 0: 1 / sqrt(head)
    float maskFilterValue{-10000.F}; //!< added to the scores of keys mask_index masks
    bool unidirectional{false};
};

//! Scratch bytes launchBertAttention needs for `a` (pointers not read); maxShapes: enough for
//! every call whose extents are at most a's (a TensorRT plugin sizes it from the profile maximum).
size_t bertWorkspaceSize(BertArgs const& a, bool maxShapes = false) noexcept;

cudaError_t launchBertAttention(BertArgs const& a, void* workspace, cudaStream_t stream) noexcept;

} // namespace trtplug
