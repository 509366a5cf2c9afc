// Strided head views of the layouts attention ops receive (BNSH, BSNH, 3-D [batch, seq,
// heads * head], packed QKV/KV) and broadcast score views of masks, for the shared attention
// core (common/attention_core.h). Host-only, no TensorRT types.
#pragma once

#include "common/attention_core.h"
#include "common/tensor_shape.h"

#include <cstdint>

namespace trtplug
{

//! [batch, heads, seq, head] contiguous (BNSH).
inline HeadView bnshView(void const* data, int64_t heads, int64_t seq, int64_t head) noexcept
{
    return HeadView{data, heads * seq * head, seq * head, head};
}

//! [batch, seq, heads, head] contiguous (BSNH, and 3-D [batch, seq, heads * head]); `packed`
//! heads-sized slots per head position (3 for packed QKV [B, S, N, 3, H], 2 for packed KV).
inline HeadView bsnhView(void const* data, int64_t heads, int64_t seq, int64_t head, int64_t packed = 1) noexcept
{
    return HeadView{data, seq * heads * packed * head, packed * head, heads * packed * head};
}

inline HeadOutView writable(HeadView const& v, void* data) noexcept
{
    return HeadOutView{data, v.batchStride, v.headStride, v.seqStride};
}

//! A [.., qLen, keys] mask or bias of rank 1..4 broadcast (right-aligned, NumPy rules) to
//! [batch, heads, qLen, keys]: size-1 axes get stride 0; the last axis is read as is.
inline ScoreView broadcastScoreView(void const* data, DType dtype, TensorShape const& s) noexcept
{
    int64_t dims[4] = {1, 1, 1, 1};
    for (int32_t i = 0; i < s.rank && i < 4; ++i)
    {
        dims[4 - s.rank + i] = s.d[i];
    }
    int64_t strides[4]{};
    int64_t stride = dims[3];
    for (int32_t i = 2; i >= 0; --i)
    {
        strides[i] = dims[i] == 1 ? 0 : stride;
        stride *= dims[i];
    }
    return ScoreView{data, dtype, strides[0], strides[1], strides[2]};
}

//! Whether `s` (rank 1..4) broadcasts to [batch, heads, qLen, *] (its last axis not checked).
inline bool scoreShapeBroadcasts(TensorShape const& s, int64_t batch, int64_t heads, int64_t qLen) noexcept
{
    if (s.rank < 1 || s.rank > 4)
    {
        return false;
    }
    int64_t const target[3] = {batch, heads, qLen};
    for (int32_t i = 0; i + 1 < s.rank; ++i)
    {
        int64_t const want = target[3 - (s.rank - 1) + i];
        if (s.d[i] != 1 && s.d[i] != want)
        {
            return false;
        }
    }
    return true;
}

} // namespace trtplug
