#include "bert_attention/bert_attention.h"

#include "common/attention_aux.cuh"
#include "common/attention_layout.h"
#include "common/activations.cuh"
#include "common/attention_mask_bias.cuh"
#include "common/dtype_dispatch.cuh"
#include "common/elementwise.cuh"
#include "common/gemm.h"
#include "common/launch.cuh"

#include <cmath>

namespace trtplug
{
namespace
{

// mask_index becomes an additive float32 score bias, as ONNX Runtime applies it
// (common/attention_mask_bias.cuh; every form measured but Megatron, which its CPU kernel refuses).

//! Workspace: the projection [B, S, Dq + Dk + Dv], a cache the node does not output, the
//! additive mask bias (float32 [B, maskHeads, maskRows, T]), the core's scratch.
struct Scratch
{
    void* proj{nullptr};
    void* presentKey{nullptr};
    void* presentValue{nullptr};
    float* maskBias{nullptr};
    void* core{nullptr};
    size_t bytes{0};
};

MaskBiasDims maskBiasDims(BertArgs const& a) noexcept
{
    return maskBiasDims(a.dims.maskRows(), a.dims.seq, a.dims.heads, a.shapes.attentionBias);
}

//! Heads of the projection starting `column` elements into each row ([B, S, N, head] with the
//! row stride of the whole projection).
HeadView projView(void const* proj, BertDims const& d, int64_t column, int64_t head, size_t elt) noexcept
{
    int64_t const row = d.projWidth();
    void const* data = proj == nullptr ? nullptr : static_cast<char const*>(proj) + elt * column;
    return HeadView{data, int64_t{d.seq} * row, head, row};
}

//! present [2, B, N, T, H] as its key and value halves (null when not wanted).
void* presentHalf(BertArgs const& a, int32_t half) noexcept
{
    BertDims const& d = a.dims;
    size_t const bytes = dtypeSize(a.dtype) * d.batch * d.heads * d.total() * d.headDim();
    return a.present == nullptr ? nullptr : static_cast<char*>(a.present) + half * bytes;
}

AttentionProblem problemOf(BertArgs const& a, Scratch const& w) noexcept
{
    BertDims const& d = a.dims;
    size_t const elt = dtypeSize(a.dtype);
    AttentionProblem p;
    p.dtype = a.dtype;
    p.batch = d.batch;
    p.qHeads = d.heads;
    p.kvHeads = d.heads;
    p.qLen = d.seq;
    p.kvLen = d.total();
    p.headDim = d.headDim();
    p.vHeadDim = d.vHeadDim();
    p.q = projView(w.proj, d, 0, d.headDim(), elt);
    bool const cached = d.pastLen > 0;
    p.k = cached ? bnshView(w.presentKey, d.heads, d.total(), d.headDim())
                 : projView(w.proj, d, d.qHidden, d.headDim(), elt);
    p.v = cached ? bnshView(w.presentValue, d.heads, d.total(), d.vHeadDim())
                 : projView(w.proj, d, 2 * int64_t{d.qHidden}, d.vHeadDim(), elt);
    p.out = writable(bsnhView(a.output, d.heads, d.seq, d.vHeadDim()), a.output);
    p.causal = a.unidirectional; // qStart null, no kvValid: query row i sits at key P + i
    p.scale = a.scale > 0.F ? a.scale : 1.F / std::sqrt(static_cast<float>(d.headDim() > 0 ? d.headDim() : 1));
    int64_t const t = d.total();
    MaskBiasDims const m = maskBiasDims(a);
    if (m.heads > 0)
    {
        p.bias = maskBiasView(w.maskBias, m, t);
    }
    else if (a.shapes.attentionBias.rank != 0)
    {
        p.bias = broadcastScoreView(a.attentionBias, a.dtype, a.shapes.attentionBias);
    }
    p.zeroFullyMaskedRows = true; // no row is empty: the mask is a bias, causal keeps key 0
    return p;
}

//! Carves `base` (null: sizes only); `bound`: the core's part covers every problem up to a's extents.
Scratch carve(BertArgs const& a, char* base, bool bound) noexcept
{
    BertDims const& d = a.dims;
    Scratch w;
    ScratchCarver carver{base};
    size_t const elt = dtypeSize(a.dtype);
    w.proj = carver.take(elt * d.batch * d.seq * d.projWidth());
    size_t const cache = elt * d.batch * d.heads * d.total() * d.headDim();
    bool const wanted = a.present != nullptr;
    w.presentKey = wanted ? presentHalf(a, 0) : d.pastLen > 0 ? carver.take(cache) : nullptr;
    w.presentValue = wanted ? presentHalf(a, 1) : d.pastLen > 0 ? carver.take(cache) : nullptr;
    int64_t const maskCount = int64_t{d.batch} * maskBiasDims(a).count() * d.total();
    w.maskBias = maskCount > 0 ? static_cast<float*>(carver.take(sizeof(float) * static_cast<size_t>(maskCount))) : nullptr;
    AttentionProblem const sized = forSizing(problemOf(a, w));
    w.core = carver.take(bound ? attentionWorkspaceBound(sized) : attentionWorkspaceSize(sized));
    w.bytes = carver.bytes;
    return w;
}

//! proj = input @ weights (+ bias).
template <typename T>
cudaError_t project(BertArgs const& a, Scratch const& w, cudaStream_t stream) noexcept
{
    BertDims const& d = a.dims;
    int64_t const rows = int64_t{d.batch} * d.seq;
    int64_t const count = rows * d.projWidth();
    cudaError_t err = d.width == 0 ? cudaMemsetAsync(w.proj, 0, sizeof(T) * count, stream)
                                   : gemmRowMajor(a.dtype, rows, d.projWidth(), d.width, a.input, a.weights, w.proj, stream);
    if (err == cudaSuccess && a.bias != nullptr && count > 0)
    {
        // in place, through the shared vectorized elementwise pass (float32 math, one rounding)
        ElementwiseArgs const rows{w.proj, a.bias, nullptr, w.proj, count, d.projWidth()};
        err = launchBiasActivation<BiasInput::kRequired, false>(a.dtype, rows, IdentityAct{}, stream);
    }
    return err;
}

//! Projection, present caches and mask bytes.
template <typename T>
cudaError_t prepare(BertArgs const& a, Scratch const& w, cudaStream_t stream) noexcept
{
    BertDims const& d = a.dims;
    size_t const elt = sizeof(T);
    cudaError_t err = project<T>(a, w, stream);
    HeadView const past = bnshView(a.past, d.heads, d.pastLen, d.headDim());
    int64_t const pastHalf = int64_t{d.batch} * d.heads * d.pastLen * d.headDim();
    HeadView const pastV = bnshView(
        a.past == nullptr ? nullptr : static_cast<char const*>(a.past) + elt * pastHalf, d.heads, d.pastLen, d.headDim());
    if (err == cudaSuccess && w.presentKey != nullptr)
    {
        err = launchConcatKv<T>(past, projView(w.proj, d, d.qHidden, d.headDim(), elt), w.presentKey, d.batch,
            d.heads, d.pastLen, d.seq, d.headDim(), stream);
    }
    if (err == cudaSuccess && w.presentValue != nullptr)
    {
        err = launchConcatKv<T>(pastV, projView(w.proj, d, 2 * int64_t{d.qHidden}, d.vHeadDim(), elt),
            w.presentValue, d.batch, d.heads, d.pastLen, d.seq, d.vHeadDim(), stream);
    }
    MaskBiasDims const md = maskBiasDims(a);
    KeyMaskForm const f{d.mask, d.batch, md.heads, md.rows, d.seq, d.total(), d.pastLen, d.maskSide, a.maskFilterValue};
    if (err == cudaSuccess && md.heads > 0)
    {
        ScoreView const ab = a.shapes.attentionBias.rank == 0
            ? ScoreView{}
            : broadcastScoreView(a.attentionBias, a.dtype, a.shapes.attentionBias);
        err = launchMaskBias<T>(a.maskIndex, f, ab, w.maskBias, stream);
    }
    return err;
}

} // namespace

size_t bertWorkspaceSize(BertArgs const& a, bool maxShapes) noexcept
{
    return carve(a, nullptr, maxShapes).bytes;
}

cudaError_t launchBertAttention(BertArgs const& a, void* workspace, cudaStream_t stream) noexcept
{
    BertDims const& d = a.dims;
    if (d.batch == 0)
    {
        return cudaSuccess;
    }
    Scratch const w = carve(a, static_cast<char*>(workspace), false);
    return forFloatOrBf16Type(a.dtype, [&](auto tag) -> cudaError_t {
        using T = decltype(tag);
        cudaError_t err = prepare<T>(a, w, stream);
        AttentionProblem const p = problemOf(a, w);
        if (err != cudaSuccess || int64_t{d.seq} * d.vHidden == 0) // no query row: present only
        {
            return err;
        }
        char const* problem = attentionProblemError(p);
        return problem == nullptr ? launchAttention(p, w.core, stream) : cudaErrorInvalidValue;
    });
}

} // namespace trtplug
