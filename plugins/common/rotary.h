// Rotary position embedding over strided head views: the one kernel behind com.microsoft and
// ai.onnx RotaryEmbedding and the do_rotary step of GroupQueryAttention. Plain data.
#pragma once

#include "common/attention_core.h"
#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

struct RotaryProblem
{
    DType dtype{DType::kFLOAT32}; //!< of in, out and the caches
    int32_t batch{0};
    int32_t heads{0};
    int32_t seqLen{0};
    int32_t headDim{0};
    int32_t rotaryDim{0};    //!< even, <= headDim; dims past it are copied unchanged
    bool interleaved{false}; //!< pairs (2i, 2i+1) instead of (i, i + rotaryDim / 2)
    HeadView in;
    HeadOutView out;         //!< may alias `in` exactly (in place)
    void const* cosCache{nullptr}; //!< [maxPosition, rotaryDim / 2] rows, or per-token rows (below)
    void const* sinCache{nullptr};
    int64_t maxPosition{0};
    //! Position of token s of batch b: positionIds[b * posBatchStride + s * posSeqStride] when
    //! set (positionIds[0] + s with positionOffset), else (posStart ? posStart[b] : 0) + s.
    int64_t const* positionIds{nullptr};
    int64_t posBatchStride{0};
    int64_t posSeqStride{1};
    int32_t const* posStart{nullptr};
    //! true: positionIds holds one start position (com.microsoft RotaryEmbedding's [1] form);
    //! token s of every batch sits at positionIds[0] + s and the strides are unused.
    bool positionOffset{false};
    //! true: the caches are already gathered per token, [batch, seqLen, rotaryDim / 2] (ai.onnx
    //! RotaryEmbedding without position_ids); positions are then not used.
    bool cachePerToken{false};
    //! With cachePerToken: the caches are [1, seqLen, rotaryDim / 2], shared by every batch entry.
    bool cacheSharedByBatch{false};
};

//! Checks that do not need the GPU; the reason, or null when `p` is launchable. Positions are
//! checked on the device: an out-of-range one leaves its row unrotated and is reported through
//! the op's error flag where it has one.
char const* rotaryProblemError(RotaryProblem const& p) noexcept;

cudaError_t launchRotary(RotaryProblem const& p, cudaStream_t stream) noexcept;

} // namespace trtplug
