#include "common/dtype_dispatch.cuh"
#include "common/row_norm.cuh"
#include "embed_layer_norm/embed_layer_norm.h"

namespace trtplug
{
namespace
{

//! Rows of rowNormKernel are tokens; a row is the sum of up to three table rows.
template <typename T, int N>
struct EmbedLoader
{
    EmbedNormArgs a;
    T const* word{nullptr};
    T const* position{nullptr};
    T const* segment{nullptr};

    explicit EmbedLoader(EmbedNormArgs const& args)
        : a(args)
    {
    }

    __device__ static T const* tableRow(void const* table, int64_t rows, int64_t hidden, int64_t index)
    {
        return index >= 0 && index < rows ? static_cast<T const*>(table) + index * hidden : nullptr;
    }

    __device__ bool row(int64_t r)
    {
        int64_t const s = r % a.seq;
        int64_t const pos = a.positionIds == nullptr ? s : a.positionIds[a.positionIdsBroadcast ? s : r];
        word = tableRow(a.wordEmbedding, a.wordRows, a.hidden, a.inputIds[r]);
        position = tableRow(a.positionEmbedding, a.positionRows, a.hidden, pos);
        bool ok = word != nullptr && position != nullptr;
        if (a.segmentIds != nullptr)
        {
            segment = tableRow(a.segmentEmbedding, a.segmentRows, a.hidden, a.segmentIds[r]);
            ok = ok && segment != nullptr;
        }
        return ok;
    }

    __device__ void load(int64_t j, float (&v)[N]) const
    {
        float p[N];
        loadFloat<T, N>(word, j, v);
        loadFloat<T, N>(position, j, p);
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            v[i] += p[i];
        }
        if (segment != nullptr)
        {
            loadFloat<T, N>(segment, j, p);
#pragma unroll
            for (int i = 0; i < N; ++i)
            {
                v[i] += p[i];
            }
        }
    }
};

//! One warp per batch row: mask_index[b] = number of mask elements equal to 1 (0 without mask).
__global__ void maskIndexKernel(int32_t const* mask, int32_t* maskIndex, int64_t batch, int64_t seq)
{
    int64_t const b = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32;
    int const lane = threadIdx.x % 32;
    if (b >= batch)
    {
        return;
    }
    unsigned count = 0;
    for (int64_t s = lane; mask != nullptr && s < seq; s += 32)
    {
        count += mask[b * seq + s] == 1 ? 1U : 0U;
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        count += __shfl_xor_sync(0xffffffffu, count, offset);
    }
    if (lane == 0)
    {
        maskIndex[b] = static_cast<int32_t>(count);
    }
}

template <typename T>
cudaError_t launchTyped(EmbedNormArgs const& a, cudaStream_t stream)
{
    NormOutputs<T> out;
    out.y = static_cast<T*>(a.output);
    out.gamma = static_cast<T const*>(a.gamma);
    out.beta = static_cast<T const*>(a.beta);
    out.sum = static_cast<T*>(a.embeddingSum);
    bool const aligned = isAligned(a.wordEmbedding, 16) && isAligned(a.positionEmbedding, 16)
        && isAligned(a.segmentEmbedding, 16) && isAligned(a.gamma, 16) && isAligned(a.beta, 16)
        && isAligned(a.output, 16) && isAligned(a.embeddingSum, 16);
    return launchRowNorm<T, /*kRms=*/false, EmbedLoader>(
        a, out, a.batch * a.seq, a.hidden, a.epsilon, aligned, stream);
}

bool argsValid(EmbedNormArgs const& a) noexcept
{
    bool const tables = a.inputIds != nullptr && a.wordEmbedding != nullptr && a.positionEmbedding != nullptr
        && a.gamma != nullptr && a.beta != nullptr && a.output != nullptr
        && (a.segmentIds == nullptr || a.segmentEmbedding != nullptr);
    return isFloatDType(a.dtype) && a.batch >= 0 && a.seq >= 0
        && a.hidden >= 1 && a.wordRows >= 0 && a.positionRows >= 0 && a.segmentRows >= 0
        && (a.batch * a.seq == 0 || tables);
}

} // namespace

cudaError_t launchEmbedLayerNorm(EmbedNormArgs const& a, cudaStream_t stream) noexcept
{
    if (!argsValid(a))
    {
        return cudaErrorInvalidValue;
    }
    if (a.maskIndex != nullptr && a.batch > 0)
    {
        constexpr int kThreads = 128;
        auto const blocks = static_cast<unsigned>((a.batch * 32 + kThreads - 1) / kThreads);
        maskIndexKernel<<<blocks, kThreads, 0, stream>>>(a.mask, a.maskIndex, a.batch, a.seq);
        cudaError_t const err = cudaGetLastError();
        if (err != cudaSuccess)
        {
            return err;
        }
    }
    if (a.batch * a.seq == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(a.dtype, [&](auto zero) { return launchTyped<decltype(zero)>(a, stream); });
}

} // namespace trtplug
