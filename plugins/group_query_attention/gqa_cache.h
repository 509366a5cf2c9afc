// GroupQueryAttention's KV-cache rows: the per-batch lengths of a step (the growing cache, and ONNX
// Runtime's windowed buffer of sliding_window_cache = 1, trtplug/protolib/windowed_cache.py) and
// the one row-copy kernel that writes a cache from the past rows and the new ones.
#pragma once

#include "common/attention_core.h"
#include "group_query_attention/group_query_attention.h"

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! Rows of one batch entry's output cache: out[r] = joined[r + shift] for r < kept, else 0, where
//! joined is the first fromPast rows of the past followed by the new rows.
struct CacheRows
{
    int32_t fromPast{0};
    int32_t kept{0};
    int32_t shift{0};
};

//! Per-batch lengths of one step, in the workspace.
struct CacheLengths
{
    int32_t* qStart{nullptr};      //!< the first query row's position among the attended keys
    int32_t* kvValid{nullptr};     //!< keys attended
    int32_t* rotaryStart{nullptr}; //!< the first new token's absolute position (T_b - S, or past_b)
    CacheRows* append{nullptr};    //!< past + new rows -> present (or the joined scratch)
    CacheRows* keep{nullptr};      //!< joined scratch -> present (windowed steps of S > 1)
};

constexpr size_t kGqaAlign = 256;

inline size_t gqaAlignUp(size_t bytes) noexcept
{
    return (bytes + kGqaAlign - 1) / kGqaAlign * kGqaAlign;
}

//! A windowed step of several tokens attends over scratch rows past ++ new (the buffer may wrap
//! inside the step, dropping rows the first queries still see), then keeps the last L(T) of them;
//! a decode step (S == 1) writes present directly and attends over it.
inline bool joinsInScratch(GqaArgs const& a) noexcept
{
    return a.slidingWindowCache && a.seqLen > 1;
}

//! Rows of the joined scratch: the whole buffer and the new rows.
inline int32_t joinedRows(GqaArgs const& a) noexcept
{
    return a.pastLen + a.seqLen;
}

size_t cacheLengthsBytes(int32_t batch) noexcept;

CacheLengths carveCacheLengths(void* base, int32_t batch) noexcept;

//! Fills `l` on the device from seqlens_k (and, for the growing cache, total_sequence_length);
//! keys at or after `keyLimit` are masked (the bias's extent).
cudaError_t launchCacheLengths(GqaArgs const& a, CacheLengths const& l, int32_t keyLimit, cudaStream_t stream) noexcept;

//! out [B, Nk, outRows, H] from past [B, Nk, pastRows, H] and the new rows `fresh` as `rows` says
//! (16-byte words where every view is aligned to them). freshOnly: only the rows that do not come
//! from the past (the attention's PastCopy writes those).
cudaError_t copyCacheRows(GqaArgs const& a, HeadView fresh, void const* past, int32_t pastRows, void* out,
    int32_t outRows, CacheRows const* rows, cudaStream_t stream, bool freshOnly = false) noexcept;

} // namespace trtplug
