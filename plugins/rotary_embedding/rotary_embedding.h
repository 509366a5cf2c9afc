// The RotaryEmbedding family's launch: com.microsoft and ai.onnx RotaryEmbedding as a
// RotaryProblem (plugins/common/rotary.h) from their tensor shapes and attributes. Plain host
// code over launchRotary, shared by the plugin adapter and the binding; no TensorRT types.
#pragma once

#include "common/rotary.h"

#include <cstdint>
#include <string>

namespace trtplug
{

//! The shapes of one call. posRank 0: no position_ids (ai.onnx: per-token caches).
struct RotaryEmbeddingShapes
{
    int32_t rank{0}; //!< input: 4 = [B, N, S, H], 3 = [B, S, N * H]
    int64_t const* input{nullptr};
    int32_t cosRank{0};
    int64_t const* cos{nullptr};
    int32_t posRank{0};
    int64_t const* pos{nullptr};
};

struct RotaryEmbeddingAttrs
{
    int32_t numHeads{0};  //!< 0: hidden / (2 * cos_cache's last dim) for a 3-D input (not M-RoPE)
    int32_t rotaryDim{0}; //!< 0: the head size
    bool interleaved{false};
    //! MRotaryEmbedding: position_ids [3, B, S] (T, H, W streams), the cache columns split by
    //! mropeSection (chunks, or interleaved for mrope_layout 1), cos and sin times scale.
    bool mrope{false};
    int32_t mropeSection[3]{0, 0, 0};
    bool mropeInterleaved{false};
    float scale{1.F};
};

//! Fills p's dtype-free geometry (dims, views' strides, position form) from the shapes; the
//! reason the shapes do not fit, naming the input, or empty. Pointers are set by the caller
//! (or by launchRotaryEmbedding).
std::string setRotaryEmbeddingGeometry(
    RotaryProblem& p, RotaryEmbeddingShapes const& shapes, RotaryEmbeddingAttrs const& attrs);

//! Launches p (geometry set) on these buffers; positionIds may be null (per-token caches).
cudaError_t launchRotaryEmbedding(RotaryProblem p, DType dtype, void const* input, void* output, void const* cos,
    void const* sin, int64_t const* positionIds, cudaStream_t stream) noexcept;

} // namespace trtplug
