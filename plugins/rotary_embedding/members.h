// Where each RotaryEmbedding member keeps its tensors (com.microsoft RotaryEmbedding and
// MRotaryEmbedding: input, position_ids, cos_cache, sin_cache; ai.onnx: X, cos_cache, sin_cache,
// position_ids?) and its attributes as RotaryEmbeddingAttrs: the one mapping the adapter
// (plugin.cpp) and the bindings share.
#pragma once

#include "rotary_embedding/op_glue.h"
#include "rotary_embedding/rotary_embedding.h"

namespace trtplug
{

struct RotaryInputIndex
{
    int32_t x;
    int32_t positions;
    int32_t cos;
    int32_t sin;
};

inline RotaryInputIndex rotaryInputs(glue_contrib_rotary_embedding::Params const&) noexcept
{
    return {0, 1, 2, 3};
}

inline RotaryInputIndex rotaryInputs(glue_mrotary_embedding::Params const&) noexcept
{
    return {0, 1, 2, 3};
}

inline RotaryInputIndex rotaryInputs(glue_onnx_rotary_embedding::Params const&) noexcept
{
    return {0, 3, 1, 2};
}

//! scale and is_packed_batching (com.microsoft) change nothing, as in ONNX Runtime's CPU kernel.
template <class Params>
RotaryEmbeddingAttrs rotaryAttrs(Params const& p) noexcept
{
    return {p.num_heads, p.rotary_embedding_dim, p.interleaved != 0};
}

//! MRotaryEmbedding: the three position streams' sections and layout, and `scale` on the caches
//! (ONNX Runtime's CPU kernel applies it here); is_packed_batching 1 is refused by the spec.
inline RotaryEmbeddingAttrs rotaryAttrs(glue_mrotary_embedding::Params const& p) noexcept
{
    RotaryEmbeddingAttrs a{p.num_heads, p.rotary_embedding_dim, p.interleaved != 0};
    a.mrope = true;
    for (size_t i = 0; i < 3; ++i)
    {
        a.mropeSection[i] = i < p.mrope_section.size() ? p.mrope_section[i] : -1; // the spec asks for 3
    }
    a.mropeInterleaved = p.mrope_layout == 1;
    a.scale = p.scale;
    return a;
}

} // namespace trtplug
