// Kernels the attention ops share around the core (common/attention_core.h): the KV-cache
// concatenation (present = past ++ new, BNSH) and the full score matrix some ops expose as a
// debugging output (ai.onnx Attention's qk_matmul_output, MultiHeadAttention's qk). The score
// kernel is a simple row-per-block loop: these outputs exist only when a node asks for them.
#pragma once

#include "common/attention_core.h"
#include "common/launch.cuh"

#include <cstdint>

namespace trtplug
{

//! present[b, n, s, :] = s < pastLen ? past[b, n, s, :] : fresh[b, n, s - pastLen, :] (present BNSH).
template <typename T>
__global__ void concatKvKernel(
    HeadView past, HeadView fresh, T* present, int32_t heads, int32_t pastLen, int32_t total, int32_t head, int64_t count)
{
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const h = i % head;
        int64_t const s = (i / head) % total;
        int64_t const n = (i / head / total) % heads;
        int64_t const b = i / head / total / heads;
        bool const old = s < pastLen;
        HeadView const& src = old ? past : fresh;
        int64_t const pos = old ? s : s - pastLen;
        present[i] = static_cast<T const*>(src.data)[b * src.batchStride + n * src.headStride + pos * src.seqStride + h];
    }
}

//! Writes the BNSH cache [batch, heads, pastLen + freshLen, head] from `past` (unused when
//! pastLen is 0) and `fresh`.
template <typename T>
cudaError_t launchConcatKv(HeadView const& past, HeadView const& fresh, void* present, int32_t batch, int32_t heads,
    int32_t pastLen, int32_t freshLen, int32_t head, cudaStream_t stream)
{
    int32_t const total = pastLen + freshLen;
    int64_t const count = int64_t{batch} * heads * total * head;
    if (count == 0)
    {
        return cudaSuccess;
    }
    concatKvKernel<T><<<gridFor(count), kBlockThreads, 0, stream>>>(
        past, fresh, static_cast<T*>(present), heads, pastLen, total, head, count);
    return cudaGetLastError();
}

//! Which stage of the scores a score-matrix output holds.
enum class ScoreStage : int32_t
{
    kScaled = 0,  //!< scale * q k^T, softcapped when the problem caps
    kBiased = 1,  //!< the same plus the bias; masked keys -inf
    kSoftmax = 2, //!< the softmax of kBiased; a row with every key masked gives zeros
};

//! One float32 score of the problem's query row (b, h, i) and key j, at kScaled or kBiased.
template <typename T>
__device__ float attentionScore(AttentionProblem const& p, int64_t b, int64_t h, int64_t i, int64_t j, bool biased)
{
    int64_t const kvHead = h / (p.qHeads / p.kvHeads);
    T const* q = static_cast<T const*>(p.q.data) + b * p.q.batchStride + h * p.q.headStride + i * p.q.seqStride;
    T const* k = static_cast<T const*>(p.k.data) + b * p.k.batchStride + kvHead * p.k.headStride + j * p.k.seqStride;
    float dot = 0.F;
    for (int32_t d = 0; d < p.headDim; ++d)
    {
        dot += toFloat(q[d]) * toFloat(k[d]);
    }
    float s = dot * p.scale;
    if (p.softcap > 0.F && !p.softcapAfterBias)
    {
        s = p.softcap * tanhf(s / p.softcap);
    }
    if (!biased)
    {
        return s;
    }
    int32_t const valid = p.kvValid != nullptr ? p.kvValid[b] : p.kvLen;
    int64_t const start = p.qStart != nullptr ? p.qStart[b] : valid - p.qLen;
    bool masked = j >= valid || (p.causal && j > start + i) || (p.windowLeft >= 0 && j < start + i - p.windowLeft);
    if (p.mask.data != nullptr)
    {
        int64_t const at = b * p.mask.batchStride + h * p.mask.headStride + i * p.mask.rowStride + j;
        masked = masked || static_cast<uint8_t const*>(p.mask.data)[at] == 0;
    }
    if (p.bias.data != nullptr)
    {
        int64_t const at = b * p.bias.batchStride + h * p.bias.headStride + i * p.bias.rowStride + j;
        s += p.bias.dtype == DType::kFLOAT32 ? static_cast<float const*>(p.bias.data)[at]
                                             : toFloat(static_cast<T const*>(p.bias.data)[at]);
    }
    if (p.softcap > 0.F && p.softcapAfterBias)
    {
        s = p.softcap * tanhf(s / p.softcap);
    }
    return masked ? -INFINITY : s;
}

//! (max, sum of exp(x - max)) of two partial softmax rows combined; max -inf means empty.
__device__ inline float2 combineSoftmax(float2 a, float2 b)
{
    float const m = fmaxf(a.x, b.x);
    if (m == -INFINITY)
    {
        return make_float2(-INFINITY, 0.F);
    }
    return make_float2(m, a.y * expf(a.x - m) + b.y * expf(b.x - m));
}

//! Block-wide combineSoftmax (blockDim.x a multiple of 32, at most 1024).
__device__ inline float2 blockSoftmaxStats(float2 v)
{
    __shared__ float2 warps[32];
    for (int32_t off = 16; off > 0; off /= 2)
    {
        v = combineSoftmax(v, make_float2(__shfl_xor_sync(0xffffffffU, v.x, off), __shfl_xor_sync(0xffffffffU, v.y, off)));
    }
    if (threadIdx.x % 32 == 0)
    {
        warps[threadIdx.x / 32] = v;
    }
    __syncthreads();
    float2 total = make_float2(-INFINITY, 0.F);
    for (int32_t w = 0; w < static_cast<int32_t>(blockDim.x / 32); ++w)
    {
        total = combineSoftmax(total, warps[w]);
    }
    __syncthreads(); // `warps` is reused by the next row
    return total;
}

//! out[b, h, i, j] (contiguous [batch, qHeads, qLen, kvLen]) = the scores at `stage`; one block per row.
template <typename T>
__global__ void scoreMatrixKernel(AttentionProblem p, ScoreStage stage, T* out, int64_t rows)
{
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    {
        int64_t const i = row % p.qLen;
        int64_t const h = (row / p.qLen) % p.qHeads;
        int64_t const b = row / p.qLen / p.qHeads;
        T* dst = out + row * p.kvLen;
        bool const biased = stage != ScoreStage::kScaled;
        float2 stats = make_float2(-INFINITY, 0.F);
        for (int64_t j = threadIdx.x; j < p.kvLen; j += blockDim.x)
        {
            float const s = attentionScore<T>(p, b, h, i, j, biased);
            if (stage != ScoreStage::kSoftmax)
            {
                dst[j] = fromFloat<T>(s);
            }
            else
            {
                stats = combineSoftmax(stats, make_float2(s, s == -INFINITY ? 0.F : 1.F));
            }
        }
        if (stage != ScoreStage::kSoftmax)
        {
            continue;
        }
        stats = blockSoftmaxStats(stats);
        for (int64_t j = threadIdx.x; j < p.kvLen; j += blockDim.x)
        {
            float const s = attentionScore<T>(p, b, h, i, j, true);
            dst[j] = fromFloat<T>(stats.y > 0.F && s != -INFINITY ? expf(s - stats.x) / stats.y : 0.F);
        }
    }
}

//! The score matrix of `p` (scale resolved, > 0) at `stage` into `out`.
template <typename T>
cudaError_t launchScoreMatrix(AttentionProblem const& p, ScoreStage stage, void* out, cudaStream_t stream)
{
    int64_t const rows = int64_t{p.batch} * p.qHeads * p.qLen;
    if (rows == 0 || p.kvLen == 0)
    {
        return cudaSuccess;
    }
    int const blocks = static_cast<int>(std::min<int64_t>(rows, int64_t{multiprocessorCount()} * 16));
    scoreMatrixKernel<T><<<blocks, 128, 0, stream>>>(p, stage, static_cast<T*>(out), rows);
    return cudaGetLastError();
}

} // namespace trtplug
