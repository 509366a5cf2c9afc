#include "multi_head_attention/multi_head_attention.h"

#include "common/attention_aux.cuh"
#include "common/attention_layout.h"
#include "common/attention_mask_bias.cuh"
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"

#include <cmath>

namespace trtplug
{
namespace
{

// key_padding_mask becomes an additive float32 score bias, as ONNX Runtime applies it in every
// form, lengths included (common/attention_mask_bias.cuh): a row whose keys are all padding
// attends to every key, and a small mask_filter_value lets padded keys contribute.

//! Workspace: biased q/k/v, caches the node does not output, the additive mask bias (float32
//! [B, maskHeads, maskRows, T]), the core's scratch.
struct Scratch
{
    void* q{nullptr};
    void* k{nullptr};
    void* v{nullptr};
    void* presentKey{nullptr};
    void* presentValue{nullptr};
    float* maskBias{nullptr};
    void* core{nullptr};
    size_t bytes{0};
};

KeyMask keyMaskOf(MhaKeyPadding padding) noexcept
{
    switch (padding)
    {
    case MhaKeyPadding::kLengths: return KeyMask::kLengths;
    case MhaKeyPadding::kMask2d: return KeyMask::kRaw2d;
    case MhaKeyPadding::kMask3d: return KeyMask::kRaw3d;
    case MhaKeyPadding::kNone: break;
    }
    return KeyMask::kNone;
}

MaskBiasDims maskBiasDims(MhaArgs const& a) noexcept
{
    MhaDims const& d = a.dims;
    int32_t const rows = d.padding == MhaKeyPadding::kNone ? 0 : d.padding == MhaKeyPadding::kMask3d ? d.qLen : 1;
    return maskBiasDims(rows, d.qLen, d.heads, a.shapes.attentionBias);
}

struct Views
{
    HeadView q;
    HeadView k;
    HeadView v;
};

//! q/k/v views of the inputs as given (before bias and cache).
Views inputViews(MhaArgs const& a) noexcept
{
    MhaDims const& d = a.dims;
    size_t const elt = dtypeSize(a.dtype);
    auto slot = [&](void const* base, int32_t i) { return static_cast<char const*>(base) + elt * i * d.headDim; };
    switch (d.layout)
    {
    case MhaLayout::kPackedQkv:
        return {bsnhView(slot(a.query, 0), d.heads, d.qLen, d.headDim, 3),
            bsnhView(slot(a.query, 1), d.heads, d.newLen, d.headDim, 3),
            bsnhView(slot(a.query, 2), d.heads, d.newLen, d.vHeadDim, 3)};
    case MhaLayout::kPackedKv:
        return {bsnhView(a.query, d.heads, d.qLen, d.headDim), bsnhView(slot(a.key, 0), d.heads, d.newLen, d.headDim, 2),
            bsnhView(slot(a.key, 1), d.heads, d.newLen, d.vHeadDim, 2)};
    case MhaLayout::kBnshCache:
        return {bsnhView(a.query, d.heads, d.qLen, d.headDim), bnshView(a.key, d.heads, d.newLen, d.headDim),
            bnshView(a.value, d.heads, d.newLen, d.vHeadDim)};
    case MhaLayout::kSeparate: break;
    }
    return {bsnhView(a.query, d.heads, d.qLen, d.headDim), bsnhView(a.key, d.heads, d.newLen, d.headDim),
        bsnhView(a.value, d.heads, d.newLen, d.vHeadDim)};
}

//! From the shapes, not the pointers: workspace sizing has no pointers.
bool hasBias(MhaArgs const& a) noexcept
{
    return a.shapes.bias.rank != 0;
}

bool biasesKeys(MhaArgs const& a) noexcept
{
    return hasBias(a) && a.dims.layout != MhaLayout::kBnshCache;
}

//! Carves `base` (null: sizes only); `bound`: the core's part covers every problem up to a's extents.
Scratch carve(MhaArgs const& a, char* base, bool bound) noexcept;

//! The core's problem over the final views (biased copies, caches) and masks.
AttentionProblem problemOf(MhaArgs const& a, Scratch const& w) noexcept
{
    MhaDims const& d = a.dims;
    Views const in = inputViews(a);
    AttentionProblem p;
    p.dtype = a.dtype;
    p.batch = d.batch;
    p.qHeads = d.heads;
    p.kvHeads = d.heads;
    p.qLen = d.qLen;
    p.kvLen = d.total();
    p.headDim = d.headDim;
    p.vHeadDim = d.vHeadDim;
    p.q = hasBias(a) ? bnshView(w.q, d.heads, d.qLen, d.headDim) : in.q;
    bool const biased = biasesKeys(a);
    p.k = d.pastLen > 0 ? bnshView(w.presentKey, d.heads, d.total(), d.headDim)
        : biased        ? bnshView(w.k, d.heads, d.newLen, d.headDim)
                        : in.k;
    p.v = d.pastLen > 0 ? bnshView(w.presentValue, d.heads, d.total(), d.vHeadDim)
        : biased        ? bnshView(w.v, d.heads, d.newLen, d.vHeadDim)
                        : in.v;
    p.out = writable(bsnhView(a.output, d.heads, d.qLen, d.vHeadDim), a.output);
    p.causal = a.unidirectional; // qStart null, no kvValid: query row i sits at key T - S + i
    p.scale = a.scale > 0.F ? a.scale : 1.F / std::sqrt(static_cast<float>(d.headDim > 0 ? d.headDim : 1));
    MaskBiasDims const m = maskBiasDims(a);
    if (m.heads > 0)
    {
        p.bias = maskBiasView(w.maskBias, m, d.total());
    }
    else if (a.shapes.attentionBias.rank != 0)
    {
        p.bias = broadcastScoreView(a.attentionBias, a.dtype, a.shapes.attentionBias);
    }
    p.zeroFullyMaskedRows = true; // no row is empty: the mask is a bias, causal keeps key 0
    return p;
}

Scratch carve(MhaArgs const& a, char* base, bool bound) noexcept
{
    MhaDims const& d = a.dims;
    Scratch w;
    ScratchCarver carver{base};
    auto take = [&carver](size_t n) { return carver.take(n); };
    size_t const rows = dtypeSize(a.dtype) * d.batch * d.heads;
    w.q = hasBias(a) ? take(rows * d.qLen * d.headDim) : nullptr;
    w.k = biasesKeys(a) ? take(rows * d.newLen * d.headDim) : nullptr;
    w.v = biasesKeys(a) ? take(rows * d.newLen * d.vHeadDim) : nullptr;
    bool const cached = d.pastLen > 0;
    w.presentKey = a.presentKey != nullptr || !cached ? a.presentKey : take(rows * d.total() * d.headDim);
    w.presentValue = a.presentValue != nullptr || !cached ? a.presentValue : take(rows * d.total() * d.vHeadDim);
    int64_t const maskCount = int64_t{d.batch} * maskBiasDims(a).count() * d.total();
    w.maskBias = maskCount > 0 ? static_cast<float*>(take(sizeof(float) * static_cast<size_t>(maskCount))) : nullptr;
    AttentionProblem const sized = forSizing(problemOf(a, w));
    w.core = take(bound ? attentionWorkspaceBound(sized) : attentionWorkspaceSize(sized));
    w.bytes = carver.bytes;
    return w;
}

template <typename T>
cudaError_t prepare(MhaArgs const& a, Scratch const& w, cudaStream_t stream) noexcept
{
    MhaDims const& d = a.dims;
    Views const in = inputViews(a);
    cudaError_t err = cudaSuccess;
    char const* bias = static_cast<char const*>(a.bias);
    size_t const elt = sizeof(T);
    if (hasBias(a))
    {
        err = launchBiasedHeads<T>(in.q, bias, w.q, d.batch, d.heads, d.qLen, d.headDim, stream);
    }
    if (err == cudaSuccess && biasesKeys(a))
    {
        int64_t const hidden = int64_t{d.heads} * d.headDim;
        err = launchBiasedHeads<T>(in.k, bias + elt * hidden, w.k, d.batch, d.heads, d.newLen, d.headDim, stream);
        err = err != cudaSuccess ? err
                                 : launchBiasedHeads<T>(in.v, bias + elt * 2 * hidden, w.v, d.batch, d.heads, d.newLen,
                                     d.vHeadDim, stream);
    }
    HeadView const k = biasesKeys(a) ? bnshView(w.k, d.heads, d.newLen, d.headDim) : in.k;
    HeadView const v = biasesKeys(a) ? bnshView(w.v, d.heads, d.newLen, d.vHeadDim) : in.v;
    if (err == cudaSuccess && w.presentKey != nullptr)
    {
        err = launchConcatKv<T>(bnshView(a.pastKey, d.heads, d.pastLen, d.headDim), k, w.presentKey, d.batch, d.heads,
            d.pastLen, d.newLen, d.headDim, stream);
    }
    if (err == cudaSuccess && w.presentValue != nullptr)
    {
        err = launchConcatKv<T>(bnshView(a.pastValue, d.heads, d.pastLen, d.vHeadDim), v, w.presentValue, d.batch,
            d.heads, d.pastLen, d.newLen, d.vHeadDim, stream);
    }
    MaskBiasDims const md = maskBiasDims(a);
    if (err == cudaSuccess && md.heads > 0)
    {
        KeyMaskForm const f{keyMaskOf(d.padding), d.batch, md.heads, md.rows, d.qLen, d.total(), d.pastLen, 0,
            a.maskFilterValue};
        ScoreView const ab = a.shapes.attentionBias.rank == 0
            ? ScoreView{}
            : broadcastScoreView(a.attentionBias, a.dtype, a.shapes.attentionBias);
        err = launchMaskBias<T>(a.keyPadding, f, ab, w.maskBias, stream);
    }
    return err;
}

} // namespace

size_t mhaWorkspaceSize(MhaArgs const& a, bool maxShapes) noexcept
{
    return carve(a, nullptr, maxShapes).bytes;
}

cudaError_t launchMultiHeadAttention(MhaArgs const& a, void* workspace, cudaStream_t stream) noexcept
{
    MhaDims const& d = a.dims;
    if (d.batch == 0)
    {
        return cudaSuccess;
    }
    Scratch const w = carve(a, static_cast<char*>(workspace), false);
    return forFloatOrBf16Type(a.dtype, [&](auto tag) -> cudaError_t {
        using T = decltype(tag);
        cudaError_t err = prepare<T>(a, w, stream);
        AttentionProblem const p = problemOf(a, w);
        if (err == cudaSuccess && a.qk != nullptr)
        {
            err = launchScoreMatrix<T>(p, ScoreStage::kFiltered, a.qk, stream, a.maskFilterValue);
        }
        if (err != cudaSuccess || int64_t{d.heads} * d.qLen * d.vHeadDim == 0)
        {
            return err;
        }
        if (d.total() == 0) // no key: every row fully masked, zeros
        {
            return cudaMemsetAsync(a.output, 0, sizeof(T) * d.batch * d.qLen * d.heads * d.vHeadDim, stream);
        }
        char const* problem = attentionProblemError(p);
        return problem == nullptr ? launchAttention(p, w.core, stream) : cudaErrorInvalidValue;
    });
}

} // namespace trtplug
