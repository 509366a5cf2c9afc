#include "onnx_attention/onnx_attention.h"

#include "common/attention_aux.cuh"
#include "common/attention_layout.h"
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"

#include <cmath>
#include <limits>

namespace trtplug
{
namespace
{

constexpr size_t kAlign = 256;

size_t alignUp(size_t n) noexcept
{
    return (n + kAlign - 1) / kAlign * kAlign;
}

bool fitsInt32(int64_t v) noexcept
{
    return v >= 0 && v <= std::numeric_limits<int32_t>::max();
}

//! [heads, seq, head] of one 3-D [batch, seq, heads * head] or 4-D BNSH input.
std::string splitHeads(TensorShape const& t, int32_t heads, char const* name, int64_t (&out)[3])
{
    if (t.rank == 4)
    {
        out[0] = t.d[1], out[1] = t.d[2], out[2] = t.d[3];
        return "";
    }
    if (heads <= 0 || t.d[2] % heads != 0)
    {
        return std::string(name) + " is 3-D: q_num_heads and kv_num_heads must be set and divide its last axis";
    }
    out[0] = heads, out[1] = t.d[1], out[2] = t.d[2] / heads;
    return "";
}

std::string checkPast(OnnxAttentionShapes const& s, OnnxAttentionDims const& d)
{
    if ((s.pastKey.rank == 0) != (s.pastValue.rank == 0))
    {
        return "past_key and past_value must be given together";
    }
    if (s.pastKey.rank == 0)
    {
        return "";
    }
    bool const keyOk = s.pastKey.rank == 4 && s.pastKey.d[0] == d.batch && s.pastKey.d[1] == d.kvHeads
        && s.pastKey.d[3] == d.headDim;
    bool const valueOk = s.pastValue.rank == 4 && s.pastValue.d[0] == d.batch && s.pastValue.d[1] == d.kvHeads
        && s.pastValue.d[2] == s.pastKey.d[2] && s.pastValue.d[3] == d.vHeadDim;
    if (!keyOk || !valueOk)
    {
        return "past_key/past_value must be [batch, kv_heads, past, head] matching K and V";
    }
    return s.nonpad.rank == 0 ? "" : "nonpad_kv_seqlen cannot be combined with past_key/past_value";
}

std::string checkMaskAndLengths(OnnxAttentionShapes const& s, OnnxAttentionDims& d)
{
    if (s.nonpad.rank != 0 && !(s.nonpad.rank == 1 && s.nonpad.d[0] == d.batch))
    {
        return "nonpad_kv_seqlen must be [batch]";
    }
    d.maskKeys = d.total();
    if (s.mask.rank == 0)
    {
        return "";
    }
    if (!scoreShapeBroadcasts(s.mask, d.batch, d.qHeads, d.qLen) || s.mask.d[s.mask.rank - 1] > d.total())
    {
        return "attn_mask must broadcast to [batch, q_heads, q_len, keys <= past + kv_len]";
    }
    d.maskKeys = static_cast<int32_t>(s.mask.d[s.mask.rank - 1]);
    return "";
}

} // namespace

std::string onnxAttentionDims(
    OnnxAttentionShapes const& s, int32_t qNumHeads, int32_t kvNumHeads, OnnxAttentionDims& d)
{
    if ((s.q.rank != 3 && s.q.rank != 4) || s.k.rank != s.q.rank || s.v.rank != s.q.rank)
    {
        return "Q, K and V must all be 3-D [batch, seq, hidden] or all 4-D [batch, heads, seq, head]";
    }
    int64_t q[3]{}, k[3]{}, v[3]{};
    for (auto const& problem : {splitHeads(s.q, qNumHeads, "Q", q), splitHeads(s.k, kvNumHeads, "K", k),
             splitHeads(s.v, kvNumHeads, "V", v)})
    {
        if (!problem.empty())
        {
            return problem;
        }
    }
    if (s.k.d[0] != s.q.d[0] || s.v.d[0] != s.q.d[0] || k[0] != v[0] || k[1] != v[1] || q[2] != k[2])
    {
        return "K and V must share batch, heads and length, and K the head size of Q";
    }
    if (k[0] < 1 || q[0] % k[0] != 0)
    {
        return "the query heads must be a multiple of the key/value heads";
    }
    int64_t const past = s.pastKey.rank == 4 ? s.pastKey.d[2] : 0;
    for (int64_t x : {s.q.d[0], q[0], q[1], k[1], q[2], v[2], past, k[1] + past})
    {
        if (!fitsInt32(x))
        {
            return "a dimension exceeds INT32_MAX";
        }
    }
    d = OnnxAttentionDims{s.q.rank == 3, static_cast<int32_t>(s.q.d[0]), static_cast<int32_t>(q[0]),
        static_cast<int32_t>(k[0]), static_cast<int32_t>(q[1]), static_cast<int32_t>(k[1]),
        static_cast<int32_t>(past), static_cast<int32_t>(q[2]), static_cast<int32_t>(v[2]), 0};
    std::string const problem = checkPast(s, d);
    return problem.empty() ? checkMaskAndLengths(s, d) : problem;
}

namespace
{

//! Workspace layout: per-batch key bounds, caches the node does not output, the core's scratch.
struct Scratch
{
    int32_t* kvValid{nullptr};
    int32_t* qStart{nullptr};
    void* presentKey{nullptr};
    void* presentValue{nullptr};
    void const* mask{nullptr}; //!< attn_mask, or its copy padded to every key (masked)
    void* core{nullptr};
    size_t bytes{0};
};

//! kvValid[b] = nonpad[b] (else all keys); qStart[b], the key position of query 0: nonpad[b] -
//! qLen, else the past length (onnx.reference's causal offset).
__global__ void keyBoundsKernel(
    int64_t const* nonpad, int32_t batch, int32_t total, int32_t past, int32_t qLen, int32_t* kvValid, int32_t* qStart)
{
    int32_t const b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch)
    {
        return;
    }
    int64_t const keys = nonpad != nullptr ? min(max(nonpad[b], int64_t{0}), int64_t{total}) : int64_t{total};
    kvValid[b] = static_cast<int32_t>(keys);
    int64_t const start = nonpad != nullptr ? nonpad[b] - qLen : int64_t{past};
    qStart[b] = static_cast<int32_t>(max(min(start, int64_t{INT32_MAX / 2}), int64_t{INT32_MIN / 2}));
}

//! dst[r, j] = j < srcKeys ? src[r, j] : fill: a mask shorter than the keys, padded as onnx.reference pads it.
template <typename M>
__global__ void padMaskKernel(M const* src, M* dst, int64_t srcKeys, int64_t dstKeys, M fill, int64_t count)
{
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const j = i % dstKeys;
        dst[i] = j < srcKeys ? src[i / dstKeys * srcKeys + j] : fill;
    }
}

//! attn_mask's shape with its last axis covering every key.
TensorShape paddedMaskShape(OnnxAttentionArgs const& a) noexcept
{
    TensorShape s = a.shapes.mask;
    s.d[s.rank - 1] = a.dims.total();
    return s;
}

bool maskNeedsPadding(OnnxAttentionArgs const& a) noexcept
{
    return a.shapes.mask.rank > 0 && a.dims.maskKeys < a.dims.total();
}

cudaError_t padMask(OnnxAttentionArgs const& a, Scratch const& w, cudaStream_t stream) noexcept
{
    if (!maskNeedsPadding(a))
    {
        return cudaSuccess;
    }
    int64_t const count = paddedMaskShape(a).volume();
    int64_t const srcKeys = a.dims.maskKeys;
    int64_t const keys = a.dims.total();
    int const blocks = gridFor(count);
    void* dst = const_cast<void*>(w.mask);
    switch (a.maskType)
    {
    case DType::kBOOL:
        padMaskKernel<<<blocks, kBlockThreads, 0, stream>>>(
            static_cast<uint8_t const*>(a.mask), static_cast<uint8_t*>(dst), srcKeys, keys, uint8_t{0}, count);
        break;
    case DType::kFLOAT32:
        padMaskKernel<<<blocks, kBlockThreads, 0, stream>>>(
            static_cast<float const*>(a.mask), static_cast<float*>(dst), srcKeys, keys, -INFINITY, count);
        break;
    default:
        return forFloatOrBf16Type(a.maskType, [&](auto tag) -> cudaError_t {
            using M = decltype(tag);
            padMaskKernel<<<blocks, kBlockThreads, 0, stream>>>(static_cast<M const*>(a.mask), static_cast<M*>(dst),
                srcKeys, keys, M(-INFINITY), count);
            return cudaGetLastError();
        });
    }
    return cudaGetLastError();
}

HeadView inputView(void const* data, bool rank3, int32_t heads, int32_t seq, int32_t head) noexcept
{
    return rank3 ? bsnhView(data, heads, seq, head) : bnshView(data, heads, seq, head);
}

//! The core's problem over the views of `a`, keys from the caches of `w` when there is a past.
AttentionProblem problemOf(OnnxAttentionArgs const& a, Scratch const& w) noexcept
{
    OnnxAttentionDims const& d = a.dims;
    AttentionProblem p;
    p.dtype = a.dtype;
    p.batch = d.batch;
    p.qHeads = d.qHeads;
    p.kvHeads = d.kvHeads;
    p.qLen = d.qLen;
    p.kvLen = d.total();
    p.headDim = d.headDim;
    p.vHeadDim = d.vHeadDim;
    p.q = inputView(a.q, d.rank3, d.qHeads, d.qLen, d.headDim);
    bool const cached = d.pastLen > 0;
    p.k = cached ? bnshView(w.presentKey, d.kvHeads, d.total(), d.headDim)
                 : inputView(a.k, d.rank3, d.kvHeads, d.newLen, d.headDim);
    p.v = cached ? bnshView(w.presentValue, d.kvHeads, d.total(), d.vHeadDim)
                 : inputView(a.v, d.rank3, d.kvHeads, d.newLen, d.vHeadDim);
    p.out = writable(inputView(a.y, d.rank3, d.qHeads, d.qLen, d.vHeadDim), a.y);
    p.kvValid = w.kvValid;
    p.qStart = w.qStart;
    p.causal = a.causal;
    p.scale = a.scale > 0.F ? a.scale : 1.F / std::sqrt(static_cast<float>(d.headDim > 0 ? d.headDim : 1));
    p.softcap = a.softcap;
    p.softcapAfterBias = false; // onnx.reference caps scale * QK^T, then adds the mask
    if (a.mask != nullptr)
    {
        bool const padded = maskNeedsPadding(a);
        ScoreView const view = broadcastScoreView(
            padded ? w.mask : a.mask, a.maskType, padded ? paddedMaskShape(a) : a.shapes.mask);
        (a.maskType == DType::kBOOL ? p.mask : p.bias) = view;
    }
    p.zeroFullyMaskedRows = true;
    return p;
}

//! Carves `base` (null: sizes only) as Scratch.
Scratch carve(OnnxAttentionArgs const& a, char* base) noexcept
{
    OnnxAttentionDims const& d = a.dims;
    Scratch w;
    auto take = [&](size_t bytes) -> void* {
        void* p = base != nullptr ? base + w.bytes : nullptr;
        w.bytes += alignUp(bytes);
        return p;
    };
    w.kvValid = static_cast<int32_t*>(take(sizeof(int32_t) * d.batch));
    w.qStart = static_cast<int32_t*>(take(sizeof(int32_t) * d.batch));
    size_t const cache = dtypeSize(a.dtype) * d.batch * d.kvHeads * d.total();
    w.presentKey = a.presentKey != nullptr || d.pastLen == 0 ? a.presentKey : take(cache * d.headDim);
    w.presentValue = a.presentValue != nullptr || d.pastLen == 0 ? a.presentValue : take(cache * d.vHeadDim);
    w.mask = maskNeedsPadding(a) ? take(dtypeSize(a.maskType) * paddedMaskShape(a).volume()) : a.mask;
    size_t const core = attentionWorkspaceSize(problemOf(a, w));
    w.core = take(core);
    return w;
}

ScoreStage qkStage(int32_t mode) noexcept
{
    return mode == 3 ? ScoreStage::kSoftmax : mode == 2 ? ScoreStage::kBiased : ScoreStage::kScaled;
}

template <typename T>
cudaError_t writeCaches(OnnxAttentionArgs const& a, Scratch const& w, cudaStream_t stream) noexcept
{
    OnnxAttentionDims const& d = a.dims;
    HeadView const pastKey = bnshView(a.pastKey, d.kvHeads, d.pastLen, d.headDim);
    HeadView const pastValue = bnshView(a.pastValue, d.kvHeads, d.pastLen, d.vHeadDim);
    cudaError_t err = cudaSuccess;
    if (w.presentKey != nullptr)
    {
        err = launchConcatKv<T>(pastKey, inputView(a.k, d.rank3, d.kvHeads, d.newLen, d.headDim), w.presentKey,
            d.batch, d.kvHeads, d.pastLen, d.newLen, d.headDim, stream);
    }
    if (err == cudaSuccess && w.presentValue != nullptr)
    {
        err = launchConcatKv<T>(pastValue, inputView(a.v, d.rank3, d.kvHeads, d.newLen, d.vHeadDim),
            w.presentValue, d.batch, d.kvHeads, d.pastLen, d.newLen, d.vHeadDim, stream);
    }
    return err;
}

} // namespace

size_t onnxAttentionWorkspaceSize(OnnxAttentionArgs const& a) noexcept
{
    return carve(a, nullptr).bytes;
}

cudaError_t launchOnnxAttention(OnnxAttentionArgs const& a, void* workspace, cudaStream_t stream) noexcept
{
    OnnxAttentionDims const& d = a.dims;
    if (d.batch == 0)
    {
        return cudaSuccess;
    }
    Scratch const w = carve(a, static_cast<char*>(workspace));
    return forFloatOrBf16Type(a.dtype, [&](auto tag) -> cudaError_t {
        using T = decltype(tag);
        keyBoundsKernel<<<(d.batch + 255) / 256, 256, 0, stream>>>(
            a.nonpad, d.batch, d.total(), d.pastLen, d.qLen, w.kvValid, w.qStart);
        cudaError_t err = cudaGetLastError();
        err = err == cudaSuccess ? padMask(a, w, stream) : err;
        err = err == cudaSuccess ? writeCaches<T>(a, w, stream) : err;
        AttentionProblem const p = problemOf(a, w);
        if (err == cudaSuccess && a.qk != nullptr)
        {
            err = launchScoreMatrix<T>(p, qkStage(a.qkMode), a.qk, stream);
        }
        if (err != cudaSuccess || int64_t{d.qHeads} * d.qLen * d.vHeadDim == 0)
        {
            return err;
        }
        if (d.total() == 0) // no key at all: every row is fully masked, zeros
        {
            size_t const bytes = sizeof(T) * d.batch * d.qHeads * d.qLen * d.vHeadDim;
            return cudaMemsetAsync(a.y, 0, bytes, stream);
        }
        char const* problem = attentionProblemError(p);
        return problem == nullptr ? launchAttention(p, w.core, stream) : cudaErrorInvalidValue;
    });
}

} // namespace trtplug
