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
    //! M-RoPE (MRotaryEmbedding): positionIds holds three position streams (temporal, height,
    //! width) posStreamStride apart, each with the strides above; cache column c of the rotary
    //! half takes its cos/sin row from the stream mropeStream(p, c) names. A token with any
    //! stream's position outside the cache is left unrotated.
    bool mrope{false};
    int32_t mropeSection[3]{0, 0, 0}; //!< columns of each stream; they sum to rotaryDim / 2
    bool mropeInterleaved{false};     //!< layout 1: H and W every 3rd column from 1 and 2; else chunks
    int64_t posStreamStride{0};
    float cacheScale{1.F}; //!< cos and sin are multiplied by it (MRotaryEmbedding's scale)
    //! The token grid (rotary_tokens.cuh) for a single-stream problem too: the RotaryEmbedding ops
    //! set it (H100, 256 MB: 91-92% of copy against the row grid's 85-86%); GroupQueryAttention's
    //! do_rotary keeps the row grid until its GPU tests have run on the token grid.
    bool preferTokenGrid{false};
};

//! The position stream (0 = T, 1 = H, 2 = W) whose cache row column c of an M-RoPE problem reads:
//! chunks [T] * s0 + [H] * s1 + [W] * s2, or interleaved: T everywhere except H at 1, 4, .. below
//! 3 * s1 and W at 2, 5, .. below 3 * s2 (ONNX Runtime's mrope_layout 0 and 1).
#if defined(__CUDACC__)
__host__ __device__
#endif
inline int32_t mropeStream(RotaryProblem const& p, int32_t c)
{
    int32_t const* s = p.mropeSection;
    if (!p.mropeInterleaved)
    {
        return c < s[0] ? 0 : c < s[0] + s[1] ? 1 : 2;
    }
    int32_t const phase = c % 3;
    return phase == 1 && c < 3 * s[1] ? 1 : phase == 2 && c < 3 * s[2] ? 2 : 0;
}

//! Checks that do not need the GPU; the reason, or null when `p` is launchable. Positions are
//! checked on the device: an out-of-range one leaves its row unrotated and is reported through
//! the op's error flag where it has one.
char const* rotaryProblemError(RotaryProblem const& p) noexcept;

cudaError_t launchRotary(RotaryProblem const& p, cudaStream_t stream) noexcept;

} // namespace trtplug
