// GatedRMSNorm's shapes -> the RMS-norm launcher's rows, and its launch.
#include "gated_rms_norm/gated_rms_norm.h"

namespace trtplug
{

std::string gatedRmsNormRows(
    TensorShape const& x, TensorShape const& scale, TensorShape const& gate, int64_t& rows, int64_t& cols)
{
    if (x.rank < 1)
    {
        return "X must have rank >= 1";
    }
    bool same = gate.rank == x.rank;
    for (int32_t i = 0; same && i < x.rank; ++i)
    {
        same = gate.d[i] == x.d[i];
    }
    if (!same)
    {
        return "gate must have the same shape as X";
    }
    cols = scale.volume();
    int64_t const last = x.d[x.rank - 1];
    if (cols <= 0)
    {
        return "scale must not be empty";
    }
    if (last % cols != 0)
    {
        return "X last dimension (" + std::to_string(last) + ") must be a multiple of the scale length ("
            + std::to_string(cols) + ")";
    }
    rows = x.volume() / cols;
    return {};
}

bool gateIsSilu(glue_gated_rms_norm::Params const& p) noexcept
{
    return p.activation != "sigmoid"; // silu and its alias swish; the spec's choices refuse the rest
}

cudaError_t launchGatedRmsNorm(DType dtype, glue_gated_rms_norm::Params const& p, void const* x,
    TensorShape const& xDims, void const* scale, TensorShape const& scaleDims, void const* gate,
    TensorShape const& gateDims, void* y, cudaStream_t stream) noexcept
{
    RmsNormArgs a;
    try
    {
        if (!gatedRmsNormRows(xDims, scaleDims, gateDims, a.rows, a.cols).empty())
        {
            return cudaErrorInvalidValue;
        }
    }
    catch (...) // std::string's allocation
    {
        return cudaErrorMemoryAllocation;
    }
    a.dtype = dtype;
    a.x = x;
    a.scale = scale;
    a.gate = gate;
    a.gateSilu = gateIsSilu(p);
    a.y = y;
    a.epsilon = p.epsilon;
    return launchRmsNorm(a, stream);
}

} // namespace trtplug
