// Key masks as ONNX Runtime 1.30 CPU applies them in com.microsoft Attention (mask_index) and
// MultiHeadAttention (key_padding_mask), measured with onnx-helper models: a masked key's score
// gets mask_filter_value ADDED (scale * QK^T + (filter + attention_bias)), for any filter value
// (-1 lets masked keys contribute). A row whose keys are all masked thus attends to every key,
// shifted by one constant: softmax of the plain scores, not zeros. unidirectional ASSIGNS the
// lowest float to keys after the query, which the core's causal mask gives. So the launchers turn
// the mask into an additive float32 score bias with attention_bias folded in, and the core sees
// no bool mask nor key lengths.
#pragma once

#include "common/attention_core.h"
#include "common/attention_layout.h"
#include "common/dtype.h"
#include "common/key_mask.h"
#include "common/launch.cuh"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! The additive mask bias's extents, float32 [B, heads, rows, T]: the mask's rows (or S when
//! attention_bias has rows) and the heads when attention_bias has them; folding attention_bias
//! in keeps one bias view.
struct MaskBiasDims
{
    int32_t heads{0}; //!< 0: no mask, no mask bias
    int32_t rows{0};
    int64_t count() const noexcept { return int64_t{heads} * rows; }
};

//! maskRows: rows the mask itself gives (S for per-query forms, 1 otherwise, 0 for no mask).
inline MaskBiasDims maskBiasDims(int32_t maskRows, int32_t seq, int32_t heads, TensorShape const& attentionBias) noexcept
{
    if (maskRows == 0)
    {
        return MaskBiasDims{};
    }
    bool const withBias = attentionBias.rank != 0;
    ScoreView const b = broadcastScoreView(nullptr, DType::kFLOAT32, attentionBias);
    int32_t const rows = withBias && b.rowStride != 0 ? seq : maskRows;
    return MaskBiasDims{withBias && b.headStride != 0 ? heads : 1, rows};
}

//! The core's bias view of a mask bias buffer of extents m over `total` keys.
inline ScoreView maskBiasView(float const* data, MaskBiasDims m, int64_t total) noexcept
{
    return ScoreView{data, DType::kFLOAT32, m.count() * total, m.heads > 1 ? m.rows * total : 0, m.rows > 1 ? total : 0};
}

struct KeyMaskForm
{
    KeyMask form{KeyMask::kNone};
    int32_t batch{0};
    int32_t heads{0}; //!< of the mask bias: 1 or N
    int32_t rows{0};  //!< of the mask bias: 1 or S
    int32_t seq{0};   //!< S
    int32_t total{0}; //!< T
    int32_t past{0};
    int32_t side{0}; //!< M of a Megatron mask
    float filter{0.F};
};

//! Whether the mask lets query row `row` (0 when the form has one row) of batch b attend `key`.
__device__ __forceinline__ bool maskAttends(int32_t const* m, KeyMaskForm const& f, int64_t b, int64_t row, int64_t key)
{
    switch (f.form)
    {
    case KeyMask::kLengths: return key < m[b];
    case KeyMask::kEndStart: return key >= m[f.batch + b] && key < m[b];
    case KeyMask::kRaw2d: return m[b * f.total + key] != 0;
    case KeyMask::kRaw3d: return m[(b * f.seq + row) * f.total + key] != 0;
    case KeyMask::kMegatron: return m[(b * f.side + f.past + row) * f.side + key] != 0;
    case KeyMask::kNone: break;
    }
    return true;
}

//! out[b, h, i, j] (float32 [B, heads, rows, T]) = (the mask masks key j ? filter : 0)
//! + attention_bias[b, h, i, j] (broadcast view `ab`, absent when its data is null).
template <typename T>
__global__ void maskBiasKernel(int32_t const* m, KeyMaskForm f, ScoreView ab, float* out)
{
    int64_t const count = int64_t{f.batch} * f.heads * f.rows * f.total;
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += stride)
    {
        int64_t const key = i % f.total;
        int64_t const row = (i / f.total) % f.rows;
        int64_t const h = (i / (int64_t{f.total} * f.rows)) % f.heads;
        int64_t const b = i / (int64_t{f.total} * f.rows * f.heads);
        int64_t const maskRow = f.form == KeyMask::kRaw3d || f.form == KeyMask::kMegatron ? row : 0;
        float v = maskAttends(m, f, b, maskRow, key) ? 0.F : f.filter;
        if (ab.data != nullptr)
        {
            v += toFloat(static_cast<T const*>(ab.data)[b * ab.batchStride + h * ab.headStride + row * ab.rowStride + key]);
        }
        out[i] = v;
    }
}

//! Writes the mask bias of form f (attention_bias `ab` folded in) into out.
template <typename T>
cudaError_t launchMaskBias(int32_t const* mask, KeyMaskForm const& f, ScoreView const& ab, float* out, cudaStream_t stream) noexcept
{
    int64_t const count = int64_t{f.batch} * f.heads * f.rows * f.total;
    if (count == 0)
    {
        return cudaSuccess;
    }
    maskBiasKernel<T><<<gridFor(count), kBlockThreads, 0, stream>>>(mask, f, ab, out);
    return cudaGetLastError();
}

} // namespace trtplug
