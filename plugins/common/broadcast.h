// ONNX multidirectional (NumPy-style) broadcasting of two tensors, for launchers: the output
// dims and each input's element strides (0 along broadcast axes), with adjacent axes merged
// where both inputs stay contiguous, so kernels do little index arithmetic. TensorRT-free.
#pragma once

#include <algorithm>
#include <cstdint>

namespace trtplug
{

struct Broadcast
{
    static constexpr int32_t kMaxRank = 8;
    int32_t rank{0};           //!< after merging; 0 for a scalar output
    int64_t dims[kMaxRank]{};  //!< output dims
    int64_t strideA[kMaxRank]{};
    int64_t strideB[kMaxRank]{};
    int64_t volume{1};         //!< output elements
    bool flat{false};          //!< both inputs have the output's shape: index = output index
    int32_t outRank{0};        //!< the broadcast output shape before merging
    int64_t outDims[kMaxRank]{};
};

//! Broadcasts dims `a` (rank aRank) with `b` (bRank; bRank 0 and b null for a unary op).
//! False when some axis pair is neither equal nor 1, or a rank exceeds kMaxRank.
inline bool makeBroadcast(int64_t const* a, int32_t aRank, int64_t const* b, int32_t bRank, Broadcast& out) noexcept
{
    int32_t const rank = std::max(aRank, bRank);
    if (aRank > Broadcast::kMaxRank || bRank > Broadcast::kMaxRank || aRank < 0 || bRank < 0)
    {
        return false;
    }
    // Aligned from the right; missing leading axes are 1.
    int64_t da[Broadcast::kMaxRank];
    int64_t db[Broadcast::kMaxRank];
    for (int32_t i = 0; i < rank; ++i)
    {
        int32_t const ia = i - (rank - aRank);
        int32_t const ib = i - (rank - bRank);
        da[i] = ia >= 0 ? a[ia] : 1;
        db[i] = ib >= 0 ? b[ib] : 1;
        if (da[i] != db[i] && da[i] != 1 && db[i] != 1)
        {
            return false;
        }
    }
    out = Broadcast{};
    out.flat = true;
    out.outRank = rank;
    int64_t sa = 1;
    int64_t sb = 1;
    for (int32_t i = rank - 1; i >= 0; --i)
    {
        int64_t const d = std::max(da[i], db[i]) == 1 ? 1 : (da[i] == 1 ? db[i] : da[i]);
        int64_t const dim = da[i] == 0 || db[i] == 0 ? 0 : d;
        out.volume *= dim;
        out.outDims[i] = dim;
        out.flat = out.flat && da[i] == db[i];
        if (dim == 1)
        {
            continue; // size-1 output axes carry no index
        }
        int64_t const strideA = da[i] == 1 ? 0 : sa;
        int64_t const strideB = db[i] == 1 ? 0 : sb;
        int32_t const last = out.rank - 1;
        bool const mergeable = out.rank > 0 && out.strideA[last] * out.dims[last] == strideA
            && out.strideB[last] * out.dims[last] == strideB;
        if (mergeable)
        {
            out.dims[last] *= dim; // inner axis (stored first, reversed below) grows outward
        }
        else
        {
            out.dims[out.rank] = dim;
            out.strideA[out.rank] = strideA;
            out.strideB[out.rank] = strideB;
            ++out.rank;
        }
        sa *= da[i];
        sb *= db[i];
    }
    std::reverse(out.dims, out.dims + out.rank);
    std::reverse(out.strideA, out.strideA + out.rank);
    std::reverse(out.strideB, out.strideB + out.rank);
    return true;
}

} // namespace trtplug
