// Rotary position embedding (rotary.h): one thread per rotated pair or copied element of a head
// row, rows strided as the views say, so BSNH, BNSH and packed QKV are rotated where they lie.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "common/rotary.h"

namespace trtplug
{
namespace
{

//! Row r = ((b * heads) + h) * seqLen + s of a [batch, heads, seqLen, dim] view.
struct RowIndex
{
    int64_t b, h, s;
};

__device__ __forceinline__ RowIndex rowIndex(RotaryProblem const& p, int64_t row)
{
    int64_t const s = row % p.seqLen;
    int64_t const bh = row / p.seqLen;
    return {bh / p.heads, bh % p.heads, s};
}

//! The cos/sin row offset of token (b, s), or -1 when its position is outside the cache.
__device__ __forceinline__ int64_t cacheRow(RotaryProblem const& p, RowIndex const& r)
{
    if (p.cachePerToken)
    {
        return r.b * p.seqLen + r.s;
    }
    int64_t const pos = p.positionIds ? p.positionIds[r.b * p.posBatchStride + r.s * p.posSeqStride]
                                      : (p.posStart ? p.posStart[r.b] : 0) + r.s;
    return (pos >= 0 && pos < p.maxPosition) ? pos : -1;
}

template <typename T>
__global__ void rotaryKernel(RotaryProblem p, int64_t rows, int32_t unitsPerRow)
{
    int32_t const half = p.rotaryDim / 2;
    int64_t const total = rows * unitsPerRow;
    for (int64_t t = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; t < total; t += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const row = t / unitsPerRow;
        int32_t const unit = static_cast<int32_t>(t % unitsPerRow);
        RowIndex const r = rowIndex(p, row);
        T const* in = static_cast<T const*>(p.in.data) + r.b * p.in.batchStride + r.h * p.in.headStride
            + r.s * p.in.seqStride;
        T* out = static_cast<T*>(p.out.data) + r.b * p.out.batchStride + r.h * p.out.headStride
            + r.s * p.out.seqStride;
        if (unit >= half)
        {
            int32_t const d = p.rotaryDim + (unit - half); // past the rotary dims: copied
            out[d] = in[d];
            continue;
        }
        int32_t const i0 = p.interleaved ? 2 * unit : unit;
        int32_t const i1 = p.interleaved ? 2 * unit + 1 : unit + half;
        float const x0 = toFloat(in[i0]);
        float const x1 = toFloat(in[i1]); // both read before either is written: in place is safe
        int64_t const c = cacheRow(p, r);
        float cos = 1.F, sin = 0.F;
        if (c >= 0)
        {
            cos = toFloat(static_cast<T const*>(p.cosCache)[c * half + unit]);
            sin = toFloat(static_cast<T const*>(p.sinCache)[c * half + unit]);
        }
        out[i0] = fromFloat<T>(x0 * cos - x1 * sin);
        out[i1] = fromFloat<T>(x1 * cos + x0 * sin);
    }
}

} // namespace

char const* rotaryProblemError(RotaryProblem const& p) noexcept
{
    if (p.dtype != DType::kFLOAT32 && p.dtype != DType::kFLOAT16 && p.dtype != DType::kBFLOAT16)
    {
        return "rotary: dtype must be float32, float16 or bfloat16";
    }
    if (p.batch < 0 || p.heads < 0 || p.seqLen < 0 || p.headDim < 0)
    {
        return "rotary: negative extent";
    }
    if (p.rotaryDim < 0 || p.rotaryDim % 2 != 0 || p.rotaryDim > p.headDim)
    {
        return "rotary: rotary_embedding_dim must be even and at most the head size";
    }
    if (p.rotaryDim > 0 && (p.cosCache == nullptr || p.sinCache == nullptr))
    {
        return "rotary: cos_cache and sin_cache are required";
    }
    if (p.rotaryDim > 0 && !p.cachePerToken && p.maxPosition < 1)
    {
        return "rotary: the caches hold no position";
    }
    return nullptr;
}

cudaError_t launchRotary(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    if (rotaryProblemError(p) != nullptr)
    {
        return cudaErrorInvalidValue;
    }
    int64_t const rows = int64_t{p.batch} * p.heads * p.seqLen;
    bool const inPlace = p.out.data == p.in.data && p.out.batchStride == p.in.batchStride
        && p.out.headStride == p.in.headStride && p.out.seqStride == p.in.seqStride;
    // In place, the dims past rotaryDim are already where they belong.
    int32_t const units = p.rotaryDim / 2 + (inPlace ? 0 : p.headDim - p.rotaryDim);
    if (rows == 0 || units == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        rotaryKernel<T><<<gridFor(rows * units), kBlockThreads, 0, stream>>>(p, rows, units);
        return cudaGetLastError();
    });
}

} // namespace trtplug
