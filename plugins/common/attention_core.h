// Scaled dot-product attention over strided head views: the one kernel behind every attention
// op (com.microsoft GroupQueryAttention, MultiHeadAttention, Attention; ai.onnx Attention). Each
// op's launcher turns its layout (packed QKV, BSNH, BNSH, KV cache) into views and masks; this
// core does softmax(scale * Q K^T [softcap] + bias, masked) V. Plain data, no TensorRT types.
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! A [batch, heads, seq, dim] view with a contiguous last axis; strides in elements, so packed
//! QKV, BSNH and BNSH layouts are all views of their buffers.
struct HeadView
{
    void const* data{nullptr};
    int64_t batchStride{0};
    int64_t headStride{0};
    int64_t seqStride{0};
};

struct HeadOutView
{
    void* data{nullptr};
    int64_t batchStride{0};
    int64_t headStride{0};
    int64_t seqStride{0};
};

//! A [batch, heads, qLen, kvLen] view with a contiguous last axis; a zero stride broadcasts.
struct ScoreView
{
    void const* data{nullptr}; //!< null: absent
    DType dtype{DType::kFLOAT32};
    int64_t batchStride{0};
    int64_t headStride{0};
    int64_t rowStride{0};
};

//! The KV-cache copy the tensor-core decode folds into its reads (GroupQueryAttention with separate
//! past and present buffers, as TensorRT gives a plugin): keys j < rows[b] are read from k/v here
//! (past's rows, same j) instead of the problem's k/v, and written into the problem's k/v (present)
//! as each tile arrives, so the op streams the cache once instead of copying it and reading it again.
//! Needs every key below rows[b] inside the attended range (causal, no window, rows[b] <= kvValid[b]);
//! only where attentionCopiesPast(p) holds. rows null: the problem's k/v hold every key.
struct PastCopy
{
    HeadView k;
    HeadView v;
    int32_t const* rows{nullptr};
};

struct AttentionProblem
{
    DType dtype{DType::kFLOAT32}; //!< of q, k, v and out (fp32, fp16, bf16)
    int32_t batch{0};
    int32_t qHeads{0};
    int32_t kvHeads{0}; //!< qHeads % kvHeads == 0: query head h reads kv head h / (qHeads / kvHeads)
    int32_t qLen{0};
    int32_t kvLen{0}; //!< sequence extent of the k/v views
    int32_t headDim{0};
    int32_t vHeadDim{0};
    HeadView q;
    HeadView k;
    HeadView v;
    HeadOutView out;
    //! Keys at positions >= kvValid[b] are masked; null: all kvLen keys are valid. Values lie in
    //! [0, kvLen] (the launchers clamp them): cuDNN reads them as its padding mask as they are.
    int32_t const* kvValid{nullptr};
    //! Query row i of batch b sits at key position qStart[b] + i (for causal and window masks);
    //! null: (kvValid ? kvValid[b] : kvLen) - qLen, the new tokens at the end of the cache.
    int32_t const* qStart{nullptr};
    //! qStart is set and known on the host to hold zeros: query i sits at key position i (a first
    //! prompt). Lets cuDNN take causal problems with per-batch key lengths (its top-left
    //! diagonal); the kernels read qStart itself.
    bool qStartZero{false};
    bool causal{false};    //!< masks keys after the query's position
    int32_t windowLeft{-1}; //!< >= 0: also masks keys before position - windowLeft (local attention)
    float scale{0.F};       //!< 0: 1 / sqrt(headDim)
    float softcap{0.F};     //!< > 0: s = softcap * tanh(s / softcap), applied to scale * QK^T
    bool softcapAfterBias{false}; //!< ai.onnx Attention caps (scale * QK^T + bias); ORT caps before
    ScoreView bias;         //!< additive, fp32 or the problem dtype
    ScoreView mask;         //!< bool (uint8), false masks the key; dtype ignored
    //! Output of a query row whose keys are all masked: zeros (true), or NaN as softmax of all
    //! -inf gives (false, what ai.onnx Attention's reference computes).
    bool zeroFullyMaskedRows{true};
    //! Per query head, a sink logit that joins every row's softmax denominator and attends to
    //! nothing (com.microsoft GroupQueryAttention head_sink): qHeads values of the problem dtype.
    void const* headSink{nullptr};
    //! A zero sink logit for every head (GroupQueryAttention smooth_softmax); ignored with headSink.
    bool smoothSoftmax{false};
    PastCopy past; //!< the past rows the decode copies into k/v (present) as it reads them
};

//! Whether launchAttention takes p with p.past.rows set (the past views' data set): the tensor-core
//! decode (16-bit, at most 8 query rows per KV head, head 64/128, no mask, bias or window, causal,
//! 16-byte rows, sm_80+, TRTPLUG_ATTENTION_DECODE not key-parallel, TRTPLUG_ATTENTION_PAST_COPY not
//! separate).
bool attentionCopiesPast(AttentionProblem const& p) noexcept;

//! Whether the last launchAttention of this process copied the past in its decode (PastCopy): what
//! tests check to know the fused path ran.
bool lastAttentionCopiedPast() noexcept;

//! Bytes of scratch launchAttention needs (split-KV partials for decode); 0 when none. Only the
//! extents count (data pointers may still be null).
size_t attentionWorkspaceSize(AttentionProblem const& p) noexcept;

//! Bytes that cover attentionWorkspaceSize of every problem with at most p's batch, heads and
//! lengths (what a TensorRT plugin asks for from its profile's maximum shapes: the split count
//! is not monotonic in the extents).
size_t attentionWorkspaceBound(AttentionProblem const& p) noexcept;

//! attentionProblemError without the data pointers (what a plugin can check before enqueue).
char const* attentionShapeError(AttentionProblem const& p) noexcept;

//! Checks that do not need the GPU; the reason, or null when `p` is launchable.
char const* attentionProblemError(AttentionProblem const& p) noexcept;

//! Runs the attention on `stream`; `workspace` holds attentionWorkspaceSize(p) bytes.
cudaError_t launchAttention(AttentionProblem const& p, void* workspace, cudaStream_t stream) noexcept;

} // namespace trtplug
