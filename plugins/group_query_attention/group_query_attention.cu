// GroupQueryAttention: cache lengths, rotary, KV-cache rows (gqa_cache.h), attention core (see the header).
#include "group_query_attention/group_query_attention.h"

#include "common/attention_core.h"
#include "common/rotary.h"
#include "group_query_attention/gqa_cache.h"
#include "group_query_attention/gqa_quant.h"

#include <algorithm>
#include <cstdint>

namespace trtplug
{
namespace
{

//! Where the launch's scratch lives: per-batch lengths, rotated q and k (BNSH), the joined rows of
//! a windowed step of several tokens (BNSH, joinedRows rows), the attention core's.
struct Scratch
{
    CacheLengths lengths{};
    void* qRot{nullptr};
    void* kRot{nullptr};
    void* joinedKey{nullptr};
    void* joinedValue{nullptr};
    void* dequantKey{nullptr}; //!< a quantized cache's present rows in the run dtype (attention's operands)
    void* dequantValue{nullptr};
    void* attention{nullptr};
};

size_t rotatedBytes(GqaArgs const& a, int32_t heads) noexcept
{
    return a.rotaryDim > 0
        ? gqaAlignUp(static_cast<size_t>(a.batch) * heads * a.seqLen * a.headSize * dtypeSize(a.dtype))
        : 0;
}

size_t joinedBytes(GqaArgs const& a) noexcept
{
    return joinsInScratch(a)
        ? gqaAlignUp(static_cast<size_t>(a.batch) * a.kvNumHeads * joinedRows(a) * a.headSize * dtypeSize(a.dtype))
        : 0;
}

int64_t queryWidth(GqaArgs const& a) noexcept
{
    int32_t const heads = a.packed ? a.numHeads + 2 * a.kvNumHeads : a.numHeads;
    return static_cast<int64_t>(heads) * a.headSize;
}

//! Heads of [B, S, heads * H] rows of `width` elements starting at element `offset`.
HeadView bsnhView(void const* data, GqaArgs const& a, int64_t width, int64_t offset) noexcept
{
    HeadView v{};
    v.data = data == nullptr ? nullptr : static_cast<char const*>(data) + offset * dtypeSize(a.dtype);
    v.batchStride = static_cast<int64_t>(a.seqLen) * width;
    v.headStride = a.headSize;
    v.seqStride = width;
    return v;
}

//! A contiguous [B, heads, rows, H] buffer.
HeadView bnshView(void const* data, GqaArgs const& a, int32_t heads, int32_t rows) noexcept
{
    HeadView v{};
    v.data = data;
    v.seqStride = a.headSize;
    v.headStride = static_cast<int64_t>(rows) * a.headSize;
    v.batchStride = static_cast<int64_t>(heads) * v.headStride;
    return v;
}

HeadOutView writable(HeadView const& v) noexcept
{
    return HeadOutView{const_cast<void*>(v.data), v.batchStride, v.headStride, v.seqStride};
}

Scratch carve(GqaArgs const& a, void* workspace) noexcept
{
    auto* base = static_cast<char*>(workspace);
    Scratch s{};
    s.lengths = carveCacheLengths(base, a.batch);
    size_t offset = cacheLengthsBytes(a.batch);
    auto next = [&](size_t bytes) -> void* {
        void* p = bytes ? base + offset : nullptr;
        offset += bytes;
        return p;
    };
    s.qRot = next(rotatedBytes(a, a.numHeads));
    s.kRot = next(rotatedBytes(a, a.kvNumHeads));
    s.joinedKey = next(joinedBytes(a));
    s.joinedValue = next(joinedBytes(a));
    s.dequantKey = next(dequantizedCacheBytes(a));
    s.dequantValue = next(dequantizedCacheBytes(a));
    s.attention = base + offset;
    return s;
}

RotaryProblem rotaryOf(GqaArgs const& a, HeadView const& in, void* out, int32_t heads, int32_t const* starts) noexcept
{
    RotaryProblem r{};
    r.dtype = a.dtype;
    r.batch = a.batch;
    r.heads = heads;
    r.seqLen = a.seqLen;
    r.headDim = a.headSize;
    r.rotaryDim = a.rotaryDim;
    r.interleaved = a.rotaryInterleaved;
    r.in = in;
    r.out = writable(bnshView(out, a, heads, a.seqLen));
    r.cosCache = a.cosCache;
    r.sinCache = a.sinCache;
    r.maxPosition = a.maxPosition;
    r.positionIds = a.positionIds;
    r.posBatchStride = a.seqLen;
    r.posSeqStride = 1;
    r.posStart = starts;
    r.preferTokenGrid = true; // its parity cases pass on the token grid (H100, run 21)
    return r;
}

AttentionProblem attentionOf(GqaArgs const& a, HeadView const& q, Scratch const& s) noexcept
{
    AttentionProblem p{};
    p.dtype = a.dtype;
    p.batch = a.batch;
    p.qHeads = a.numHeads;
    p.kvHeads = a.kvNumHeads;
    p.qLen = a.seqLen;
    bool const joined = joinsInScratch(a); // else the keys are present's rows (dequantized ones when int8)
    p.kvLen = joined ? joinedRows(a) : a.presentLen;
    p.headDim = a.headSize;
    p.vHeadDim = a.headSize;
    p.q = q;
    void const* keys = joined ? s.joinedKey : a.quantized ? s.dequantKey : a.presentKey;
    void const* values = joined ? s.joinedValue : a.quantized ? s.dequantValue : a.presentValue;
    p.k = bnshView(keys, a, a.kvNumHeads, p.kvLen);
    p.v = bnshView(values, a, a.kvNumHeads, p.kvLen);
    p.out = writable(bsnhView(a.output, a, static_cast<int64_t>(a.numHeads) * a.headSize, 0));
    p.kvValid = s.lengths.kvValid;
    p.qStart = s.lengths.qStart;
    p.qStartZero = a.pastLen == 0; // the lengths kernel clamps every start into the past: all 0
    p.causal = true;
    p.windowLeft = a.localWindowSize > 0 ? a.localWindowSize - 1 : -1;
    p.scale = a.scale;
    p.softcap = a.softcap;
    p.bias = ScoreView{a.bias, a.dtype, a.biasBatchStride, a.biasHeadStride, a.biasRowStride};
    p.headSink = a.headSink;
    p.smoothSoftmax = a.smoothSoftmax;
    return p;
}

//! Stands in for data pointers where only shapes are checked (plugin build time).
char const kShapeOnly = 0;

//! The attention problem of `a`, for its shape checks and workspace bound (no device work).
AttentionProblem plannedAttention(GqaArgs const& a) noexcept
{
    GqaArgs shapes = a;
    shapes.query = &kShapeOnly;
    shapes.output = const_cast<char*>(&kShapeOnly);
    shapes.presentKey = shapes.output;
    shapes.presentValue = shapes.output;
    Scratch joined{};
    joined.joinedKey = shapes.output;
    joined.joinedValue = shapes.output;
    joined.dequantKey = shapes.output;
    joined.dequantValue = shapes.output;
    return attentionOf(shapes, bsnhView(shapes.query, shapes, queryWidth(a), 0), joined);
}

//! sliding_window_cache = 1: a window within the buffer's capacity, present of the buffer's rows, no bias.
char const* windowedCacheError(GqaArgs const& a) noexcept
{
    if (!a.slidingWindowCache)
    {
        return nullptr;
    }
    if (a.localWindowSize < 1 || a.localWindowSize > a.pastLen)
    {
        return "sliding_window_cache = 1 needs 1 <= local_window_size <= past_key rows (the buffer's capacity)";
    }
    if (a.presentLen != a.pastLen)
    {
        return "sliding_window_cache = 1: present_key must have past_key's rows (the buffer's capacity)";
    }
    return a.bias != nullptr || a.biasKeys != 0 ? "sliding_window_cache = 1 with attention_bias is not covered"
                                                : nullptr;
}

//! A quantized cache: the new rows quantized into present after the copied past codes, then present
//! dequantized into the scratch the attention core reads.
cudaError_t writeQuantizedCaches(
    GqaArgs const& a, HeadView const& k, HeadView const& v, Scratch const& s, cudaStream_t stream) noexcept
{
    CacheRows const* rows = s.lengths.append;
    cudaError_t err = quantizeCacheRows(a, k, a.pastKey, a.presentKey, a.kScale, a.kScalePerChannel, rows, stream);
    if (err == cudaSuccess)
    {
        err = quantizeCacheRows(a, v, a.pastValue, a.presentValue, a.vScale, a.vScalePerChannel, rows, stream);
    }
    if (err == cudaSuccess)
    {
        err = dequantizeCacheForAttention(a, a.presentKey, a.kScale, a.kScalePerChannel, rows, s.dequantKey, stream);
    }
    if (err == cudaSuccess)
    {
        err = dequantizeCacheForAttention(
            a, a.presentValue, a.vScale, a.vScalePerChannel, rows, s.dequantValue, stream);
    }
    return err;
}

//! The attention problem, with the copy of the past rows into present folded into the decode where
//! the core takes it (PastCopy: a growing cache in the run dtype, decode-shaped): the op then reads
//! the cache once (TRTPLUG_ATTENTION_PAST_COPY=separate turns it off). At KV 8k on an H100 the
//! separate copy took longer than the attention itself.
AttentionProblem withPastCopy(GqaArgs const& a, AttentionProblem p, Scratch const& s) noexcept
{
    if (a.quantized || a.slidingWindowCache || a.pastLen == 0 || a.pastKey == nullptr || a.pastValue == nullptr)
    {
        return p;
    }
    // Growing cache: present row r < past_b is past row r, and qStart[b] is past_b.
    p.past = PastCopy{bnshView(a.pastKey, a, a.kvNumHeads, a.pastLen),
        bnshView(a.pastValue, a, a.kvNumHeads, a.pastLen), s.lengths.qStart};
    if (!attentionCopiesPast(p))
    {
        p.past = PastCopy{};
    }
    return p;
}

//! present (and, for a windowed step of several tokens, the joined rows it attends over) from the
//! past and the new rows k/v; with pastInAttention (PastCopy), only present's rows after the past.
cudaError_t writeCaches(GqaArgs const& a, HeadView const& k, HeadView const& v, Scratch const& s,
    bool pastInAttention, cudaStream_t stream) noexcept
{
    if (a.quantized)
    {
        return writeQuantizedCaches(a, k, v, s, stream);
    }
    bool const joined = joinsInScratch(a);
    int32_t const rows = joined ? joinedRows(a) : a.presentLen;
    void* const keys = joined ? s.joinedKey : a.presentKey;
    void* const values = joined ? s.joinedValue : a.presentValue;
    cudaError_t err = copyCacheRows(a, k, a.pastKey, a.pastLen, keys, rows, s.lengths.append, stream, pastInAttention);
    if (err == cudaSuccess)
    {
        err = copyCacheRows(a, v, a.pastValue, a.pastLen, values, rows, s.lengths.append, stream, pastInAttention);
    }
    if (err == cudaSuccess && joined) // present keeps the last L(T) joined rows
    {
        err = copyCacheRows(a, HeadView{}, s.joinedKey, rows, a.presentKey, a.presentLen, s.lengths.keep, stream);
    }
    if (err == cudaSuccess && joined)
    {
        err = copyCacheRows(a, HeadView{}, s.joinedValue, rows, a.presentValue, a.presentLen, s.lengths.keep, stream);
    }
    return err;
}

bool pointersMissing(GqaArgs const& a) noexcept
{
    bool const rows = a.batch > 0 && a.seqLen > 0;
    bool const cache = a.batch > 0 && a.presentLen > 0;
    return (rows && (a.query == nullptr || a.output == nullptr || (!a.packed && (a.key == nullptr || a.value == nullptr))))
        || (cache && (a.presentKey == nullptr || a.presentValue == nullptr))
        || (a.batch > 0 && (a.seqlensK == nullptr || a.totalSeqLen == nullptr))
        || (a.pastLen > 0 && (a.pastKey == nullptr || a.pastValue == nullptr))
        || (cache && a.quantized && (a.kScale == nullptr || a.vScale == nullptr))
        || (rows && a.rotaryDim > 0 && (a.cosCache == nullptr || a.sinCache == nullptr));
}

} // namespace

char const* gqaArgsError(GqaArgs const& a) noexcept
{
    if (a.numHeads < 1 || a.kvNumHeads < 1 || a.numHeads % a.kvNumHeads != 0)
    {
        return "num_heads must be a positive multiple of kv_num_heads";
    }
    // A windowed buffer keeps its capacity, fewer rows than a long first prompt's S.
    if (a.batch < 0 || a.seqLen < 0 || a.pastLen < 0 || (!a.slidingWindowCache && a.presentLen < a.seqLen))
    {
        return "present_key must hold at least the S new rows (total_sequence_length >= sequence length)";
    }
    if (a.rotaryDim < 0 || a.rotaryDim % 2 != 0 || a.rotaryDim > a.headSize)
    {
        return "cos_cache/sin_cache must have at most head_size / 2 columns";
    }
    if (a.localWindowSize == 0 || a.localWindowSize < -1)
    {
        return "local_window_size must be -1 or positive";
    }
    if (a.quantized && a.slidingWindowCache)
    {
        return "sliding_window_cache = 1 with a quantized cache (kv_cache_bit_width = 8) is not covered";
    }
    char const* windowed = windowedCacheError(a);
    if (windowed != nullptr)
    {
        return windowed;
    }
    // Shapes only: a plugin checks these before any pointer exists (onShapeChange, workspace).
    return attentionShapeError(plannedAttention(a));
}

size_t gqaWorkspaceSize(GqaArgs const& a) noexcept
{
    if (gqaArgsError(a) != nullptr)
    {
        return 0;
    }
    return cacheLengthsBytes(a.batch) + rotatedBytes(a, a.numHeads) + rotatedBytes(a, a.kvNumHeads)
        + 2 * joinedBytes(a) + 2 * dequantizedCacheBytes(a) + attentionWorkspaceBound(plannedAttention(a));
}

cudaError_t launchGroupQueryAttention(GqaArgs const& a, void* workspace, cudaStream_t stream) noexcept
{
    if (gqaArgsError(a) != nullptr || pointersMissing(a) || (a.batch > 0 && workspace == nullptr))
    {
        return cudaErrorInvalidValue;
    }
    if (a.batch == 0)
    {
        return cudaSuccess;
    }
    Scratch const s = carve(a, workspace);
    cudaError_t err
        = launchCacheLengths(a, s.lengths, a.bias ? std::min(a.biasKeys, a.presentLen) : a.presentLen, stream);
    int64_t const width = queryWidth(a);
    int64_t const qWidth = static_cast<int64_t>(a.numHeads) * a.headSize;
    int64_t const kvWidth = static_cast<int64_t>(a.kvNumHeads) * a.headSize;
    HeadView q = bsnhView(a.query, a, width, 0);
    HeadView k = a.packed ? bsnhView(a.query, a, width, qWidth) : bsnhView(a.key, a, kvWidth, 0);
    HeadView const v = a.packed ? bsnhView(a.query, a, width, qWidth + kvWidth) : bsnhView(a.value, a, kvWidth, 0);
    if (err == cudaSuccess && a.rotaryDim > 0 && a.seqLen > 0)
    {
        err = launchRotary(rotaryOf(a, q, s.qRot, a.numHeads, s.lengths.rotaryStart), stream);
        if (err == cudaSuccess)
        {
            err = launchRotary(rotaryOf(a, k, s.kRot, a.kvNumHeads, s.lengths.rotaryStart), stream);
        }
        q = bnshView(s.qRot, a, a.numHeads, a.seqLen);
        k = bnshView(s.kRot, a, a.kvNumHeads, a.seqLen);
    }
    AttentionProblem const attention = withPastCopy(a, attentionOf(a, q, s), s);
    if (err == cudaSuccess)
    {
        err = writeCaches(a, k, v, s, attention.past.rows != nullptr, stream);
    }
    if (err == cudaSuccess)
    {
        err = launchAttention(attention, s.attention, stream);
    }
    return err;
}

} // namespace trtplug
