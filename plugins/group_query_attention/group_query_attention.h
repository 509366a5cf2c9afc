// GroupQueryAttention launcher (plain data, no TensorRT types): per-batch cache lengths on the
// device, rotary through launchRotary (common/rotary.h), the KV-cache rows (gqa_cache.h: the
// growing cache, or ONNX Runtime's windowed buffer), then the attention core
// (common/attention_core.h) over the present cache (or a windowed step's joined rows).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

struct GqaArgs
{
    DType dtype{DType::kFLOAT32};
    int32_t batch{0};
    int32_t seqLen{0};     //!< S, new tokens
    int32_t numHeads{0};   //!< N
    int32_t kvNumHeads{0}; //!< Nk
    int32_t headSize{0};   //!< H
    int32_t pastLen{0};    //!< P, rows of past_key/past_value (0: absent)
    int32_t presentLen{0}; //!< rows of present_key/present_value
    bool packed{false};    //!< query holds Q, K and V ([B, S, (N + 2 Nk) H]); key/value absent
    //! sliding_window_cache = 1: past and present are ONNX Runtime's windowed buffer of capacity
    //! pastLen (== presentLen), holding L(T) rows of a T-token sequence
    //! (trtplug/protolib/windowed_cache.py); needs 1 <= localWindowSize <= pastLen and no bias.
    bool slidingWindowCache{false};
    //! kv_cache_bit_width = 8: past/present are int8 codes (gqa_quant.h); the new rows enter as
    //! clamp(rint(x / s), -128, 127), attention reads code * s. Scales: float32, one element, or
    //! Nk * H per channel. Not with slidingWindowCache.
    bool quantized{false};
    bool kScalePerChannel{false};
    bool vScalePerChannel{false};
    float const* kScale{nullptr};
    float const* vScale{nullptr};
    void const* query{nullptr};
    void const* key{nullptr};
    void const* value{nullptr};
    void const* pastKey{nullptr};
    void const* pastValue{nullptr};
    int32_t const* seqlensK{nullptr};    //!< [B], T_b - 1
    int32_t const* totalSeqLen{nullptr}; //!< device scalar: S == *total marks a first prompt (not windowed)
    // Rotary (rotaryDim 0: none): caches [maxPosition, rotaryDim / 2]; positions from positionIds
    // [B, S] when set, else past_b + s (windowed: the absolute T_b - S + s, not the buffer row).
    int32_t rotaryDim{0};
    bool rotaryInterleaved{false};
    void const* cosCache{nullptr};
    void const* sinCache{nullptr};
    int64_t maxPosition{0};
    int64_t const* positionIds{nullptr};
    // attention_bias [B|1, N|1, S, biasKeys], strides in elements (0 broadcasts); null: none.
    void const* bias{nullptr};
    int64_t biasBatchStride{0};
    int64_t biasHeadStride{0};
    int64_t biasRowStride{0};
    int32_t biasKeys{0}; //!< keys the bias covers (total_sequence_length); later keys are masked
    void const* headSink{nullptr}; //!< [N] or null
    bool smoothSoftmax{false};
    float scale{0.F};
    float softcap{0.F};
    int32_t localWindowSize{-1}; //!< > 0: the query sees this many keys, its own included
    void* output{nullptr};       //!< [B, S, N H]
    void* presentKey{nullptr};   //!< [B, Nk, presentLen, H] (int8 when quantized)
    void* presentValue{nullptr};
};

//! Why `a`'s shapes and attributes cannot run (naming the input or attribute), or null; data
//! pointers are not checked here (launchGroupQueryAttention refuses missing ones).
char const* gqaArgsError(GqaArgs const& a) noexcept;

//! Scratch bytes launchGroupQueryAttention needs: lengths, rotated q/k, a windowed step's joined
//! rows, a quantized cache's dequantized present rows (2 B Nk presentLen H elements of the run
//! dtype), the attention core's (its bound: enough for every call with at most a's extents).
size_t gqaWorkspaceSize(GqaArgs const& a) noexcept;

cudaError_t launchGroupQueryAttention(GqaArgs const& a, void* workspace, cudaStream_t stream) noexcept;

} // namespace trtplug
