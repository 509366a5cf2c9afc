// GroupQueryAttention's int8 KV cache: quantize-and-append, dequantize for attention (gqa_quant.h).
#include "group_query_attention/gqa_quant.h"

#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"

namespace trtplug
{
namespace
{

//! ONNX Runtime's code of x: round half to even, saturated; a zero scale divides by 1, NaN -> 127
//! (fminf keeps the number).
__device__ __forceinline__ int8_t quantizeValue(float x, float scale)
{
    float const code = rintf(x / (scale == 0.F ? 1.F : scale));
    return static_cast<int8_t>(fmaxf(-128.F, fminf(127.F, code)));
}

//! Element i of a [B, Nk, rows, H] cache as (b, h, r, d).
struct CacheIndex
{
    int32_t b, h, r, d;
};

__device__ __forceinline__ CacheIndex cacheIndex(int64_t i, int32_t kvHeads, int32_t rows, int32_t headSize)
{
    int64_t const row = i / headSize;
    int64_t const bh = row / rows;
    CacheIndex c{};
    c.d = static_cast<int32_t>(i - row * headSize);
    c.r = static_cast<int32_t>(row - bh * rows);
    c.b = static_cast<int32_t>(bh / kvHeads);
    c.h = static_cast<int32_t>(bh - static_cast<int64_t>(c.b) * kvHeads);
    return c;
}

template <typename T>
__global__ void quantizeRowsKernel(HeadView fresh, int8_t const* past, int8_t* out, float const* scale,
    bool perChannel, CacheRows const* rows, int32_t kvHeads, int32_t pastRows, int32_t outRows, int32_t headSize,
    int64_t total)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        CacheIndex const c = cacheIndex(i, kvHeads, outRows, headSize);
        CacheRows const span = rows[c.b];
        int8_t code = 0;
        if (c.r < span.kept && c.r < span.fromPast)
        {
            code = past[((static_cast<int64_t>(c.b) * kvHeads + c.h) * pastRows + c.r) * headSize + c.d];
        }
        else if (c.r < span.kept)
        {
            T const x = static_cast<T const*>(fresh.data)[c.b * fresh.batchStride + c.h * fresh.headStride
                + static_cast<int64_t>(c.r - span.fromPast) * fresh.seqStride + c.d];
            code = quantizeValue(toFloat(x), scale[perChannel ? c.h * headSize + c.d : 0]);
        }
        out[i] = code;
    }
}

template <typename T>
__global__ void dequantizeRowsKernel(int8_t const* codes, T* out, float const* scale, bool perChannel,
    CacheRows const* rows, int32_t kvHeads, int32_t cacheRows, int32_t headSize, int64_t total)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        CacheIndex const c = cacheIndex(i, kvHeads, cacheRows, headSize);
        float const s = scale[perChannel ? c.h * headSize + c.d : 0];
        out[i] = fromFloat<T>(c.r < rows[c.b].kept ? static_cast<float>(codes[i]) * s : 0.F);
    }
}

int64_t cacheElements(GqaArgs const& a, int32_t rows) noexcept
{
    return static_cast<int64_t>(a.batch) * a.kvNumHeads * rows * a.headSize;
}

} // namespace

size_t dequantizedCacheBytes(GqaArgs const& a) noexcept
{
    return a.quantized ? gqaAlignUp(static_cast<size_t>(cacheElements(a, a.presentLen)) * dtypeSize(a.dtype)) : 0;
}

cudaError_t quantizeCacheRows(GqaArgs const& a, HeadView fresh, void const* past, void* out, float const* scale,
    bool perChannel, CacheRows const* rows, cudaStream_t stream) noexcept
{
    int64_t const total = cacheElements(a, a.presentLen);
    if (total == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(a.dtype, [&](auto t) {
        using T = decltype(t);
        quantizeRowsKernel<T><<<gridFor(total), kBlockThreads, 0, stream>>>(fresh, static_cast<int8_t const*>(past),
            static_cast<int8_t*>(out), scale, perChannel, rows, a.kvNumHeads, a.pastLen, a.presentLen, a.headSize,
            total);
        return cudaGetLastError();
    });
}

cudaError_t dequantizeCacheForAttention(GqaArgs const& a, void const* codes, float const* scale, bool perChannel,
    CacheRows const* rows, void* out, cudaStream_t stream) noexcept
{
    int64_t const total = cacheElements(a, a.presentLen);
    if (total == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(a.dtype, [&](auto t) {
        using T = decltype(t);
        dequantizeRowsKernel<T><<<gridFor(total), kBlockThreads, 0, stream>>>(static_cast<int8_t const*>(codes),
            static_cast<T*>(out), scale, perChannel, rows, a.kvNumHeads, a.presentLen, a.headSize, total);
        return cudaGetLastError();
    });
}

} // namespace trtplug
