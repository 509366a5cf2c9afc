// launchRotary and rotaryProblemError (rotary.h): the shared rotary pass of the RotaryEmbedding
// family and GroupQueryAttention's do_rotary. Picks 16-byte groups when every pointer, stride
// and extent allows them, else one element at a time; in place, the dims past rotaryDim are
// already where they belong and are not copied.
#include "common/dtype_dispatch.cuh"
#include "common/rotary.cuh"
#include "common/rotary_tokens.cuh"

namespace trtplug
{
namespace
{

using namespace rotary_detail;

template <typename T, int kVec, bool kWide>
cudaError_t launchGroups(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    RotaryGrid<kWide> const g = rotaryGrid<kVec, kWide>(p);
    rotaryKernel<T, kVec, kWide><<<gridFor(int64_t{g.work}), kBlockThreads, 0, stream>>>(p, g);
    return cudaGetLastError();
}

template <typename T, int kVec, bool kWide>
cudaError_t launchTokens(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    TokenGrid<kWide> const g = tokenGrid<kVec, kWide>(p, tokenChunkHeadsFor(p, kVec, multiprocessorCount()));
    rotaryTokenKernel<T, kVec, kWide><<<gridFor(int64_t{g.work}), kBlockThreads, 0, stream>>>(p, g);
    return cudaGetLastError();
}

template <typename T, int kVec>
cudaError_t launchWidth(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    bool const wide = needsWideIndex(p, kVec, int64_t{kBlockThreads} * multiprocessorCount() * 32);
    if constexpr (kVec > 1)
    {
        if (tokenGridApplies(p, kVec)) // its work is the row grid's over heads: the row grid's width holds it
        {
            return wide ? launchTokens<T, kVec, true>(p, stream) : launchTokens<T, kVec, false>(p, stream);
        }
    }
    return wide ? launchGroups<T, kVec, true>(p, stream) : launchGroups<T, kVec, false>(p, stream);
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
        return "rotary: batch, heads, seqLen and headDim must be >= 0";
    }
    if (p.rotaryDim < 0 || p.rotaryDim % 2 != 0 || p.rotaryDim > p.headDim)
    {
        return "rotary: rotaryDim must be even, >= 0 and <= headDim";
    }
    int32_t const* sec = p.mropeSection;
    if (p.mrope && (sec[0] < 0 || sec[1] < 0 || sec[2] < 0 || sec[0] + sec[1] + sec[2] != p.rotaryDim / 2))
    {
        return "rotary: mropeSection must be >= 0 and sum to rotaryDim / 2";
    }
    if (p.mrope && (p.cachePerToken || p.positionOffset || (rowCount(p) > 0 && p.positionIds == nullptr)))
    {
        return "rotary: M-RoPE needs per-stream positionIds"; // an empty input has none (its array is empty)
    }
    if (!p.cachePerToken && p.maxPosition < 0)
    {
        return "rotary: maxPosition must be >= 0";
    }
    if (rowCount(p) > 0 && (p.in.data == nullptr || p.out.data == nullptr))
    {
        return "rotary: input and output must not be null";
    }
    bool const readsCaches = p.rotaryDim > 0 && (p.cachePerToken || p.maxPosition > 0);
    if (rowCount(p) > 0 && readsCaches && (p.cosCache == nullptr || p.sinCache == nullptr))
    {
        return "rotary: cos and sin caches must not be null";
    }
    return nullptr;
}

cudaError_t launchRotary(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    if (rotaryProblemError(p) != nullptr)
    {
        return cudaErrorInvalidValue;
    }
    if (rowCount(p) == 0 || unitsPerRow(p, 1) == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(p.dtype, [&](auto zero) {
        using T = decltype(zero);
        constexpr int kVec = 16 / sizeof(T);
        return allowsGroups(p, kVec) ? launchWidth<T, kVec>(p, stream) : launchWidth<T, 1>(p, stream);
    });
}

} // namespace trtplug
