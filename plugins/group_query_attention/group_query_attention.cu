// GroupQueryAttention: cache lengths, rotary, KV-cache append, attention core (see the header).
#include "group_query_attention/group_query_attention.h"

#include "common/attention_core.h"
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "common/rotary.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace trtplug
{
namespace
{

constexpr size_t kAlign = 256;

size_t alignUp(size_t bytes) noexcept
{
    return (bytes + kAlign - 1) / kAlign * kAlign;
}

//! Where the launch's scratch lives: per-batch qStart/kvValid (int32), rotated q and k (BNSH).
struct Scratch
{
    int32_t* qStart{nullptr};
    int32_t* kvValid{nullptr};
    void* qRot{nullptr};
    void* kRot{nullptr};
    void* attention{nullptr};
};

size_t rotatedBytes(GqaArgs const& a, int32_t heads) noexcept
{
    return a.rotaryDim > 0 ? alignUp(static_cast<size_t>(a.batch) * heads * a.seqLen * a.headSize * dtypeSize(a.dtype))
                           : 0;
}

size_t lengthBytes(GqaArgs const& a) noexcept
{
    return alignUp(static_cast<size_t>(a.batch) * sizeof(int32_t));
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

//! past_b (0 on a first prompt, S == total, else T_b - S, clamped into the buffers) and T_b.
//! Keys past `keyLimit` (the bias's extent) are masked too, so that no key reads past the bias.
__global__ void cacheLengthsKernel(int32_t const* seqlensK, int32_t const* total, int32_t batch, int32_t seqLen,
    int32_t pastLen, int32_t presentLen, int32_t keyLimit, int32_t* qStart, int32_t* kvValid)
{
    int32_t const b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch)
    {
        return;
    }
    int32_t const tokens = seqlensK[b] + 1;
    int32_t past = seqLen == *total ? 0 : tokens - seqLen;
    past = max(0, min(past, min(pastLen, presentLen - seqLen)));
    qStart[b] = past;
    kvValid[b] = max(0, min(tokens, keyLimit));
}

//! present[b, h, r] = past[b, h, r] for r < past_b, the new row r - past_b up to past_b + S, else
//! 0; in words W of sizeof(W) / sizeof(T) elements (16-byte vectors where everything is aligned).
//! Strides of `fresh` and the head size are in words here.
template <typename W>
__global__ void appendCacheKernel(HeadView fresh, W const* past, W* present, int32_t const* qStart, int32_t kvHeads,
    int32_t pastLen, int32_t presentLen, int32_t seqLen, int32_t headWords, int64_t total)
{
    W zero;
    memset(&zero, 0, sizeof(W)); // all-zero bits: 0 in every float type
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const row = i / headWords;
        int32_t const d = static_cast<int32_t>(i - row * headWords);
        int64_t const bh = row / presentLen;
        int32_t const r = static_cast<int32_t>(row - bh * presentLen);
        int32_t const b = static_cast<int32_t>(bh / kvHeads);
        int32_t const h = static_cast<int32_t>(bh - static_cast<int64_t>(b) * kvHeads);
        int32_t const kept = qStart[b];
        W value = zero;
        if (r < kept)
        {
            value = past[(bh * pastLen + r) * headWords + d];
        }
        else if (r < kept + seqLen)
        {
            value = static_cast<W const*>(fresh.data)[b * fresh.batchStride + h * fresh.headStride
                + static_cast<int64_t>(r - kept) * fresh.seqStride + d];
        }
        present[i] = value;
    }
}

template <typename W>
cudaError_t appendWords(GqaArgs const& a, HeadView fresh, void const* past, void* present, int32_t const* qStart,
    int64_t elemsPerWord, cudaStream_t stream) noexcept
{
    fresh.batchStride /= elemsPerWord;
    fresh.headStride /= elemsPerWord;
    fresh.seqStride /= elemsPerWord;
    auto const headWords = static_cast<int32_t>(a.headSize / elemsPerWord);
    int64_t const total = static_cast<int64_t>(a.batch) * a.kvNumHeads * a.presentLen * headWords;
    appendCacheKernel<W><<<gridFor(total), kBlockThreads, 0, stream>>>(fresh, static_cast<W const*>(past),
        static_cast<W*>(present), qStart, a.kvNumHeads, a.pastLen, a.presentLen, a.seqLen, headWords, total);
    return cudaGetLastError();
}

bool aligned16(void const* p) noexcept
{
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

cudaError_t appendCache(GqaArgs const& a, HeadView const& fresh, void const* past, void* present,
    int32_t const* qStart, cudaStream_t stream) noexcept
{
    if (static_cast<int64_t>(a.batch) * a.kvNumHeads * a.presentLen * a.headSize == 0)
    {
        return cudaSuccess;
    }
    auto const perVector = static_cast<int64_t>(16 / dtypeSize(a.dtype));
    bool const vectors = a.headSize % perVector == 0 && fresh.batchStride % perVector == 0
        && fresh.headStride % perVector == 0 && fresh.seqStride % perVector == 0 && aligned16(fresh.data)
        && aligned16(past) && aligned16(present);
    if (vectors)
    {
        return appendWords<uint4>(a, fresh, past, present, qStart, perVector, stream);
    }
    return forFloatOrBf16Type(a.dtype, [&](auto t) {
        using T = decltype(t);
        return appendWords<T>(a, fresh, past, present, qStart, 1, stream);
    });
}

Scratch carve(GqaArgs const& a, void* workspace) noexcept
{
    auto* base = static_cast<char*>(workspace);
    Scratch s{};
    s.qStart = reinterpret_cast<int32_t*>(base);
    s.kvValid = reinterpret_cast<int32_t*>(base + lengthBytes(a));
    size_t offset = 2 * lengthBytes(a);
    size_t const qBytes = rotatedBytes(a, a.numHeads);
    size_t const kBytes = rotatedBytes(a, a.kvNumHeads);
    s.qRot = qBytes ? base + offset : nullptr;
    s.kRot = kBytes ? base + offset + qBytes : nullptr;
    s.attention = base + offset + qBytes + kBytes;
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
    p.kvLen = a.presentLen;
    p.headDim = a.headSize;
    p.vHeadDim = a.headSize;
    p.q = q;
    p.k = bnshView(a.presentKey, a, a.kvNumHeads, a.presentLen);
    p.v = bnshView(a.presentValue, a, a.kvNumHeads, a.presentLen);
    p.out = writable(bsnhView(a.output, a, static_cast<int64_t>(a.numHeads) * a.headSize, 0));
    p.kvValid = s.kvValid;
    p.qStart = s.qStart;
    p.qStartZero = a.pastLen == 0; // cacheLengthsKernel clamps every start into the past: all 0
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
    return attentionOf(shapes, bsnhView(shapes.query, shapes, queryWidth(a), 0), Scratch{});
}

bool pointersMissing(GqaArgs const& a) noexcept
{
    bool const rows = a.batch > 0 && a.seqLen > 0;
    bool const cache = a.batch > 0 && a.presentLen > 0;
    return (rows && (a.query == nullptr || a.output == nullptr || (!a.packed && (a.key == nullptr || a.value == nullptr))))
        || (cache && (a.presentKey == nullptr || a.presentValue == nullptr))
        || (a.batch > 0 && (a.seqlensK == nullptr || a.totalSeqLen == nullptr))
        || (a.pastLen > 0 && (a.pastKey == nullptr || a.pastValue == nullptr))
        || (rows && a.rotaryDim > 0 && (a.cosCache == nullptr || a.sinCache == nullptr));
}

} // namespace

char const* gqaArgsError(GqaArgs const& a) noexcept
{
    if (a.numHeads < 1 || a.kvNumHeads < 1 || a.numHeads % a.kvNumHeads != 0)
    {
        return "num_heads must be a positive multiple of kv_num_heads";
    }
    if (a.batch < 0 || a.seqLen < 0 || a.pastLen < 0 || a.presentLen < a.seqLen)
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
    // Shapes only: a plugin checks these before any pointer exists (onShapeChange, workspace).
    return attentionShapeError(plannedAttention(a));
}

size_t gqaWorkspaceSize(GqaArgs const& a) noexcept
{
    if (gqaArgsError(a) != nullptr)
    {
        return 0;
    }
    return 2 * lengthBytes(a) + rotatedBytes(a, a.numHeads) + rotatedBytes(a, a.kvNumHeads)
        + attentionWorkspaceBound(plannedAttention(a));
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
    cacheLengthsKernel<<<(a.batch + 255) / 256, 256, 0, stream>>>(
        a.seqlensK, a.totalSeqLen, a.batch, a.seqLen, a.pastLen, a.presentLen,
        a.bias ? std::min(a.biasKeys, a.presentLen) : a.presentLen, s.qStart, s.kvValid);
    cudaError_t err = cudaGetLastError();
    int64_t const width = queryWidth(a);
    int64_t const qWidth = static_cast<int64_t>(a.numHeads) * a.headSize;
    int64_t const kvWidth = static_cast<int64_t>(a.kvNumHeads) * a.headSize;
    HeadView q = bsnhView(a.query, a, width, 0);
    HeadView k = a.packed ? bsnhView(a.query, a, width, qWidth) : bsnhView(a.key, a, kvWidth, 0);
    HeadView const v = a.packed ? bsnhView(a.query, a, width, qWidth + kvWidth) : bsnhView(a.value, a, kvWidth, 0);
    if (err == cudaSuccess && a.rotaryDim > 0 && a.seqLen > 0)
    {
        err = launchRotary(rotaryOf(a, q, s.qRot, a.numHeads, s.qStart), stream);
        if (err == cudaSuccess)
        {
            err = launchRotary(rotaryOf(a, k, s.kRot, a.kvNumHeads, s.qStart), stream);
        }
        q = bnshView(s.qRot, a, a.numHeads, a.seqLen);
        k = bnshView(s.kRot, a, a.kvNumHeads, a.seqLen);
    }
    if (err == cudaSuccess)
    {
        err = appendCache(a, k, a.pastKey, a.presentKey, s.qStart, stream);
    }
    if (err == cudaSuccess)
    {
        err = appendCache(a, v, a.pastValue, a.presentValue, s.qStart, stream);
    }
    if (err == cudaSuccess)
    {
        err = launchAttention(attentionOf(a, q, s), s.attention, stream);
    }
    return err;
}

} // namespace trtplug
