#include "multi_head_attention/multi_head_attention.h"

#include "common/attention_aux.cuh"
#include "common/attention_layout.h"
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"

#include <cmath>

namespace trtplug
{
namespace
{

//! Workspace: biased q/k/v, caches the node does not output, the padding mask as bytes, the
//! causal start per batch, the core's scratch.
struct Scratch
{
    void* q{nullptr};
    void* k{nullptr};
    void* v{nullptr};
    void* presentKey{nullptr};
    void* presentValue{nullptr};
    uint8_t* mask{nullptr};
    int32_t* qStart{nullptr};
    void* core{nullptr};
    size_t bytes{0};
};

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
    p.kvValid = d.padding == MhaKeyPadding::kLengths ? a.keyPadding : nullptr;
    p.qStart = w.qStart;
    p.causal = a.unidirectional;
    p.scale = a.scale > 0.F ? a.scale : 1.F / std::sqrt(static_cast<float>(d.headDim > 0 ? d.headDim : 1));
    int64_t const t = d.total();
    if (d.padding == MhaKeyPadding::kMask2d || d.padding == MhaKeyPadding::kMask3d)
    {
        bool const rows = d.padding == MhaKeyPadding::kMask3d;
        p.mask = ScoreView{w.mask, DType::kBOOL, rows ? d.qLen * t : t, 0, rows ? t : 0};
    }
    if (a.shapes.attentionBias.rank != 0)
    {
        p.bias = broadcastScoreView(a.attentionBias, a.dtype, a.shapes.attentionBias);
    }
    p.zeroFullyMaskedRows = true;
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
    int64_t const maskBytes = a.shapes.keyPadding.volume();
    bool const mask = d.padding == MhaKeyPadding::kMask2d || d.padding == MhaKeyPadding::kMask3d;
    w.mask = mask ? static_cast<uint8_t*>(take(static_cast<size_t>(maskBytes))) : nullptr;
    bool const starts = d.padding == MhaKeyPadding::kLengths && a.unidirectional;
    w.qStart = starts ? static_cast<int32_t*>(take(sizeof(int32_t) * d.batch)) : nullptr;
    AttentionProblem const sized = forSizing(problemOf(a, w));
    w.core = take(bound ? attentionWorkspaceBound(sized) : attentionWorkspaceSize(sized));
    w.bytes = carver.bytes;
    return w;
}

//! The 0/1 int32 padding mask as the core's bool bytes; qStart[b] = total - qLen (the new
//! tokens last, whatever the key lengths).
__global__ void paddingKernel(
    int32_t const* mask, uint8_t* bytes, int64_t count, int32_t* qStart, int32_t batch, int32_t start)
{
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    {
        bytes[i] = mask[i] != 0 ? 1 : 0;
    }
    for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; qStart != nullptr && b < batch;
         b += int64_t{gridDim.x} * blockDim.x)
    {
        qStart[b] = start;
    }
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
    int64_t const count = w.mask != nullptr ? a.shapes.keyPadding.volume() : 0;
    if (err == cudaSuccess && (count > 0 || w.qStart != nullptr))
    {
        paddingKernel<<<gridFor(count > d.batch ? count : d.batch), kBlockThreads, 0, stream>>>(
            a.keyPadding, w.mask, count, w.qStart, d.batch, d.total() - d.qLen);
        err = cudaGetLastError();
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
