// GroupQueryAttention's shape rules, shared by the IPluginV3 adapter and the pybind11 binding
// (present rows: max(past rows, total_sequence_length), or the past's with sliding_window_cache):
// concrete input shapes + attributes -> the launcher's GqaArgs (all but the data pointers), or
// the reason they do not fit (naming the input or attribute).
#pragma once

#include "group_query_attention/group_query_attention.h"

#include <cstdint>
#include <string>
#include <vector>

namespace trtplug
{

using GqaShape = std::vector<int64_t>;

//! Input shapes of one call; null: the optional input is absent (or empty, as a plugin gets it).
struct GqaShapes
{
    GqaShape const* query{nullptr};
    GqaShape const* key{nullptr};
    GqaShape const* value{nullptr};
    GqaShape const* pastKey{nullptr};
    GqaShape const* pastValue{nullptr};
    GqaShape const* seqlensK{nullptr};
    GqaShape const* cosCache{nullptr};
    GqaShape const* sinCache{nullptr};
    GqaShape const* positionIds{nullptr};
    GqaShape const* attentionBias{nullptr};
    GqaShape const* headSink{nullptr};
    int64_t presentLen{0}; //!< rows of present_key/present_value
    GqaShape const* kScale{nullptr};
    GqaShape const* vScale{nullptr};
};

namespace gqa_detail
{

inline bool shapeIs(GqaShape const* s, std::initializer_list<int64_t> dims)
{
    return s != nullptr && *s == GqaShape(dims);
}

//! Head size and packing from query [B, S, W] and the attributes; "" or the problem.
inline std::string setHeads(GqaArgs& a, GqaShapes const& s)
{
    if (s.query == nullptr || s.query->size() != 3)
    {
        return "query must be [batch, sequence, hidden]";
    }
    a.batch = static_cast<int32_t>((*s.query)[0]);
    a.seqLen = static_cast<int32_t>((*s.query)[1]);
    a.packed = s.key == nullptr;
    if ((s.key == nullptr) != (s.value == nullptr))
    {
        return "key and value must both be given, or both absent (packed QKV)";
    }
    int64_t const heads = a.packed ? a.numHeads + 2 * int64_t{a.kvNumHeads} : a.numHeads;
    int64_t const width = (*s.query)[2];
    if (width % heads != 0 || width == 0)
    {
        return "query hidden size " + std::to_string(width) + " is not a positive multiple of "
            + std::to_string(heads) + (a.packed ? " (num_heads + 2 * kv_num_heads, packed QKV)" : " (num_heads)");
    }
    a.headSize = static_cast<int32_t>(width / heads);
    int64_t const kvWidth = int64_t{a.kvNumHeads} * a.headSize;
    if (!a.packed && (!shapeIs(s.key, {a.batch, a.seqLen, kvWidth}) || !shapeIs(s.value, {a.batch, a.seqLen, kvWidth})))
    {
        return "key and value must be [batch, sequence, kv_num_heads * head_size] = [" + std::to_string(a.batch)
            + ", " + std::to_string(a.seqLen) + ", " + std::to_string(kvWidth) + "]";
    }
    return "";
}

//! sliding_window_cache = 1: the past is the buffer (its rows the capacity), present as many rows.
inline std::string windowedCache(GqaArgs const& a, GqaShapes const& s)
{
    if (s.pastKey == nullptr)
    {
        return "sliding_window_cache = 1 needs past_key and past_value (the windowed buffer)";
    }
    if (s.presentLen != a.pastLen)
    {
        return "sliding_window_cache = 1: present_key must have past_key's " + std::to_string(a.pastLen)
            + " rows (the buffer's capacity), got " + std::to_string(s.presentLen);
    }
    return s.attentionBias != nullptr ? "sliding_window_cache = 1 with attention_bias is not covered" : "";
}

//! past_key/past_value [B, Nk, P, H] (both or neither), seqlens_k [B], present rows.
inline std::string setCache(GqaArgs& a, GqaShapes const& s)
{
    if ((s.pastKey == nullptr) != (s.pastValue == nullptr))
    {
        return "past_key and past_value must both be given or both absent";
    }
    a.pastLen = s.pastKey && s.pastKey->size() == 4 ? static_cast<int32_t>((*s.pastKey)[2]) : 0;
    if (s.pastKey && (!shapeIs(s.pastKey, {a.batch, a.kvNumHeads, a.pastLen, a.headSize}) || *s.pastValue != *s.pastKey))
    {
        return "past_key and past_value must be [batch, kv_num_heads, past, head_size] (BNSH)";
    }
    if (!shapeIs(s.seqlensK, {a.batch}))
    {
        return "seqlens_k must be [batch]";
    }
    a.presentLen = static_cast<int32_t>(s.presentLen);
    if (a.slidingWindowCache)
    {
        return windowedCache(a, s);
    }
    if (s.presentLen < a.seqLen || s.presentLen < a.pastLen)
    {
        return "present_key must have max(past rows, total_sequence_length) >= sequence rows";
    }
    return "";
}

//! cos/sin caches (do_rotary), position_ids [B, S], attention_bias [B|1, N|1, S, keys], head_sink [N].
inline std::string setExtras(GqaArgs& a, GqaShapes const& s, bool rotary)
{
    if (rotary)
    {
        if (s.cosCache == nullptr || s.cosCache->size() != 2 || s.sinCache == nullptr || *s.sinCache != *s.cosCache)
        {
            return "do_rotary = 1 needs cos_cache and sin_cache, both [max_position, rotary_dim / 2]";
        }
        a.maxPosition = (*s.cosCache)[0];
        a.rotaryDim = static_cast<int32_t>(2 * (*s.cosCache)[1]);
        if (a.rotaryDim > a.headSize || a.rotaryDim == 0)
        {
            return "cos_cache has " + std::to_string(a.rotaryDim / 2) + " columns; head_size / 2 at most, 1 at least";
        }
    }
    if (s.positionIds && !shapeIs(s.positionIds, {a.batch, a.seqLen}))
    {
        return "position_ids must be [batch, sequence]";
    }
    if (s.headSink && !shapeIs(s.headSink, {a.numHeads}))
    {
        return "head_sink must be [num_heads]";
    }
    if (s.attentionBias == nullptr)
    {
        return "";
    }
    GqaShape const& b = *s.attentionBias;
    if (b.size() != 4 || (b[0] != 1 && b[0] != a.batch) || (b[1] != 1 && b[1] != a.numHeads) || b[2] != a.seqLen)
    {
        return "attention_bias must be [batch or 1, num_heads or 1, sequence, total_sequence_length]";
    }
    a.biasKeys = static_cast<int32_t>(b[3]);
    a.biasRowStride = b[3];
    a.biasHeadStride = b[1] == 1 ? 0 : b[2] * b[3];
    a.biasBatchStride = b[0] == 1 ? 0 : b[1] * b[2] * b[3];
    return "";
}

inline int64_t elements(GqaShape const& s)
{
    int64_t n = 1;
    for (int64_t d : s)
    {
        n *= d;
    }
    return n;
}

//! kv_cache_bit_width 0 (quant types NONE) or 8 (both PER_TENSOR or PER_CHANNEL, the past given,
//! scales of 1 or Nk * H elements); "" or the problem.
inline std::string setQuantization(
    GqaArgs& a, GqaShapes const& s, int64_t bits, std::string const& kType, std::string const& vType)
{
    a.quantized = bits == 8;
    if (bits != 0 && bits != 8)
    {
        return "kv_cache_bit_width must be 0 or 8 (4-bit caches are not covered)";
    }
    if ((kType != "NONE") != a.quantized || (vType != "NONE") != a.quantized)
    {
        return "kv_cache_bit_width = 8 needs k_quant_type and v_quant_type PER_TENSOR or PER_CHANNEL (NONE without)";
    }
    if (!a.quantized)
    {
        return "";
    }
    if (s.pastKey == nullptr || s.kScale == nullptr || s.vScale == nullptr)
    {
        return "kv_cache_bit_width = 8 needs past_key, past_value, k_scale and v_scale";
    }
    a.kScalePerChannel = kType == "PER_CHANNEL";
    a.vScalePerChannel = vType == "PER_CHANNEL";
    int64_t const channels = int64_t{a.kvNumHeads} * a.headSize;
    if (elements(*s.kScale) != (a.kScalePerChannel ? channels : 1)
        || elements(*s.vScale) != (a.vScalePerChannel ? channels : 1))
    {
        return "k_scale/v_scale must have 1 element (PER_TENSOR) or kv_num_heads * head_size = "
            + std::to_string(channels) + " (PER_CHANNEL)";
    }
    return "";
}

} // namespace gqa_detail

//! Fills the shape and attribute fields of `a` (not its pointers); "" or the problem.
template <class Params>
std::string setGqaShapes(GqaArgs& a, GqaShapes const& s, Params const& p)
{
    a.numHeads = p.num_heads;
    a.kvNumHeads = p.kv_num_heads;
    if (a.numHeads < 1 || a.kvNumHeads < 1 || a.numHeads % a.kvNumHeads != 0)
    {
        return "num_heads must be a positive multiple of kv_num_heads";
    }
    a.scale = p.scale;
    a.softcap = p.softcap;
    a.localWindowSize = p.local_window_size;
    a.slidingWindowCache = p.sliding_window_cache != 0;
    a.rotaryInterleaved = p.rotary_interleaved != 0;
    a.smoothSoftmax = p.smooth_softmax != 0;
    std::string problem = gqa_detail::setHeads(a, s);
    if (problem.empty())
    {
        problem = gqa_detail::setCache(a, s);
    }
    if (problem.empty())
    {
        problem = gqa_detail::setExtras(a, s, p.do_rotary != 0);
    }
    if (problem.empty())
    {
        problem = gqa_detail::setQuantization(a, s, p.kv_cache_bit_width, p.k_quant_type, p.v_quant_type);
    }
    return problem;
}

} // namespace trtplug
