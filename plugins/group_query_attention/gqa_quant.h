// GroupQueryAttention's int8 KV cache (kv_cache_bit_width = 8, as ONNX Runtime's CPU kernel computes
// it): the new rows quantized into present next to the copied past codes, and the present rows
// dequantized into a scratch of the run dtype that the attention core then reads. A decode kernel
// reading the codes itself (common/attention_decode*.cuh) would make the scratch unnecessary.
#pragma once

#include "group_query_attention/gqa_cache.h"

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! Bytes of one dequantized cache (present's rows, run dtype); 0 when `a` is not quantized.
size_t dequantizedCacheBytes(GqaArgs const& a) noexcept;

//! out [B, Nk, outRows, H] int8: past codes for rows below rows[b].fromPast, then the new rows of
//! `fresh` (run dtype) quantized with `scale`, zeros from rows[b].kept on.
cudaError_t quantizeCacheRows(GqaArgs const& a, HeadView fresh, void const* past, void* out, float const* scale,
    bool perChannel, CacheRows const* rows, cudaStream_t stream) noexcept;

//! The attention operand of a quantized cache: out [B, Nk, presentLen, H] (run dtype) = codes *
//! scale for the rows each batch entry holds (below rows[b].kept), zeros after (the kernels may
//! read masked rows: they must be finite).
cudaError_t dequantizeCacheForAttention(GqaArgs const& a, void const* codes, float const* scale, bool perChannel,
    CacheRows const* rows, void* out, cudaStream_t stream) noexcept;

} // namespace trtplug
