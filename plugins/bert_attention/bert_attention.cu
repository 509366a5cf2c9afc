#include "bert_attention/bert_attention.h"

#include "common/attention_aux.cuh"
#include "common/attention_layout.h"
#include "common/dtype_dispatch.cuh"
#include "common/gemm.h"
#include "common/launch.cuh"

#include <cmath>

namespace trtplug
{
namespace
{

// mask_index semantics, ONNX Runtime 1.30 CPU (measured with onnx-helper models, every form but
// Megatron, which its CPU kernel refuses): a masked key's score gets mask_filter_value ADDED
// (scale * QK^T + filter, then attention_bias), for any filter value (-1 lets masked keys
// contribute). A row whose keys are all masked (a zero length, an all-zero row, end <= start)
// thus attends to its keys shifted by one constant: softmax of the plain scores, not zeros.
// unidirectional ASSIGNS the lowest float to keys after the query (the new tokens last), so a
// fully masked causal row still attends only to keys up to its position; the core's causal mask
// gives exactly that. Hence the mask is built here as an additive float32 bias and the core sees
// no bool mask nor key lengths (its fully-masked-row zeros never apply to this op).

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

//! The additive mask bias's extents: mask_index's rows (or S when attention_bias has rows), and
//! the heads when attention_bias has them; folding attention_bias in keeps one bias view.
struct MaskBiasDims
{
    int32_t heads{0}; //!< 0: no mask_index, no mask bias
    int32_t rows{0};
    int64_t count() const noexcept { return int64_t{heads} * rows; }
};

MaskBiasDims maskBiasDims(BertArgs const& a) noexcept
{
    BertDims const& d = a.dims;
    if (d.maskRows() == 0)
    {
        return MaskBiasDims{};
    }
    bool const withBias = a.shapes.attentionBias.rank != 0;
    ScoreView const b = broadcastScoreView(nullptr, a.dtype, a.shapes.attentionBias);
    int32_t const rows = withBias && b.rowStride != 0 ? d.seq : d.maskRows();
    return MaskBiasDims{withBias && b.headStride != 0 ? d.heads : 1, rows};
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
        p.bias = ScoreView{w.maskBias, DType::kFLOAT32, m.count() * t, m.heads > 1 ? m.rows * t : 0, m.rows > 1 ? t : 0};
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

//! proj[r, c] += bias[c] (computed in float32).
template <typename T>
__global__ void biasRowsKernel(T* proj, T const* bias, int64_t count, int32_t width)
{
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    {
        proj[i] = fromFloat<T>(toFloat(proj[i]) + toFloat(bias[i % width]));
    }
}

struct MaskForm
{
    BertMask form{BertMask::kNone};
    int32_t batch{0};
    int32_t heads{0}; //!< of the mask bias: 1 or N
    int32_t rows{0};  //!< of the mask bias: 1 or S
    int32_t seq{0};   //!< S
    int32_t total{0}; //!< T
    int32_t past{0};
    int32_t side{0}; //!< M of a Megatron mask
    float filter{0.F};
};

//! Whether mask_index lets query row `row` (0 when the form has one row) of batch b attend `key`.
__device__ __forceinline__ bool maskAttends(int32_t const* m, MaskForm const& f, int64_t b, int64_t row, int64_t key)
{
    switch (f.form)
    {
    case BertMask::kLengths: return key < m[b];
    case BertMask::kEndStart: return key >= m[f.batch + b] && key < m[b];
    case BertMask::kRaw2d: return m[b * f.total + key] != 0;
    case BertMask::kRaw3d: return m[(b * f.seq + row) * f.total + key] != 0;
    case BertMask::kMegatron: return m[(b * f.side + f.past + row) * f.side + key] != 0;
    case BertMask::kNone: break;
    }
    return true;
}

//! out[b, h, i, j] (float32 [B, heads, rows, T]) = (mask_index masks key j ? filter : 0)
//! + attention_bias[b, h, i, j] (broadcast view `ab`, absent when its data is null).
template <typename T>
__global__ void maskBiasKernel(int32_t const* m, MaskForm f, ScoreView ab, float* out)
{
    int64_t const count = int64_t{f.batch} * f.heads * f.rows * f.total;
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += stride)
    {
        int64_t const key = i % f.total;
        int64_t const row = (i / f.total) % f.rows;
        int64_t const h = (i / (int64_t{f.total} * f.rows)) % f.heads;
        int64_t const b = i / (int64_t{f.total} * f.rows * f.heads);
        int64_t const maskRow = f.form == BertMask::kRaw3d || f.form == BertMask::kMegatron ? row : 0;
        float v = maskAttends(m, f, b, maskRow, key) ? 0.F : f.filter;
        if (ab.data != nullptr)
        {
            v += toFloat(static_cast<T const*>(ab.data)[b * ab.batchStride + h * ab.headStride + row * ab.rowStride + key]);
        }
        out[i] = v;
    }
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
        biasRowsKernel<T><<<gridFor(count), kBlockThreads, 0, stream>>>(
            static_cast<T*>(w.proj), static_cast<T const*>(a.bias), count, d.projWidth());
        err = cudaGetLastError();
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
    MaskForm const f{d.mask, d.batch, md.heads, md.rows, d.seq, d.total(), d.pastLen, d.maskSide, a.maskFilterValue};
    int64_t const count = int64_t{f.batch} * md.count() * f.total;
    if (err == cudaSuccess && count > 0)
    {
        ScoreView const ab = a.shapes.attentionBias.rank == 0
            ? ScoreView{}
            : broadcastScoreView(a.attentionBias, a.dtype, a.shapes.attentionBias);
        maskBiasKernel<T><<<gridFor(count), kBlockThreads, 0, stream>>>(a.maskIndex, f, ab, w.maskBias);
        err = cudaGetLastError();
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
