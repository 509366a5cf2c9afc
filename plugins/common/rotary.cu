// launchRotary and rotaryProblemError (rotary.h): the shared rotary pass of the RotaryEmbedding
// family and GroupQueryAttention's do_rotary. Picks 16-byte groups when every pointer, stride
// and extent allows them, else one element at a time; in place, the dims past rotaryDim are
// already where they belong and are not copied.
#include "common/dtype_dispatch.cuh"
#include "common/rotary.cuh"

#include <limits>

namespace trtplug
{
namespace
{

using rotary_detail::RotaryGrid;
using rotary_detail::rotaryKernel;

int64_t rowCount(RotaryProblem const& p) noexcept
{
    return int64_t{p.batch} * p.heads * p.seqLen;
}

bool inPlace(RotaryProblem const& p) noexcept
{
    return p.out.data == p.in.data && p.out.batchStride == p.in.batchStride && p.out.headStride == p.in.headStride
        && p.out.seqStride == p.in.seqStride;
}

//! Work units of one row: groups of kVec rotary pairs, then (not in place) groups of kVec copied dims.
int64_t unitsPerRow(RotaryProblem const& p, int kVec) noexcept
{
    return p.rotaryDim / 2 / kVec + (inPlace(p) ? 0 : (p.headDim - p.rotaryDim) / kVec);
}

//! True when kVec-element groups start at kVec-aligned addresses in every row of every tensor.
bool allowsGroups(RotaryProblem const& p, int kVec) noexcept
{
    size_t const bytes = dtypeSize(p.dtype) * kVec;
    auto const divides = [kVec](int64_t v) { return v % kVec == 0; };
    bool const positionsOk = p.cachePerToken || p.maxPosition >= 0;
    return positionsOk && divides(p.rotaryDim / 2) && divides(p.headDim) && divides(p.in.batchStride)
        && divides(p.in.headStride) && divides(p.in.seqStride) && divides(p.out.batchStride)
        && divides(p.out.headStride) && divides(p.out.seqStride) && isAligned(p.in.data, bytes)
        && isAligned(p.out.data, bytes) && isAligned(p.cosCache, bytes) && isAligned(p.sinCache, bytes);
}

template <typename T, int kVec, bool kWide>
cudaError_t launchGroups(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    RotaryGrid<kWide> g;
    using Index = typename RotaryGrid<kWide>::Index;
    using Divmod = typename RotaryGrid<kWide>::Divmod;
    int32_t const rotaryUnits = p.rotaryDim / 2 / kVec;
    auto const units = static_cast<int32_t>(unitsPerRow(p, kVec));
    // Rows follow memory: heads innermost when a token's heads sit closer than its successor.
    g.headsInner = p.in.headStride <= p.in.seqStride;
    g.work = static_cast<Index>(rowCount(p) * units);
    g.units = Divmod(units);
    g.inner = Divmod(g.headsInner ? p.heads : p.seqLen);
    g.middle = Divmod(g.headsInner ? p.seqLen : p.heads);
    g.rotaryUnits = rotaryUnits;
    rotaryKernel<T, kVec, kWide><<<gridFor(rowCount(p) * units), kBlockThreads, 0, stream>>>(p, g);
    return cudaGetLastError();
}

template <typename T, int kVec>
cudaError_t launchWidth(RotaryProblem const& p, cudaStream_t stream) noexcept
{
    int64_t const units = unitsPerRow(p, kVec);
    bool const wide = rowCount(p) * units + kBlockThreads * int64_t{multiprocessorCount()} * 32
        > std::numeric_limits<int32_t>::max();
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
