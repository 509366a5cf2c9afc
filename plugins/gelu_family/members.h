// Each GELU-family member's launch from its generated Params (overloads on the glue types): the
// one mapping the plugin adapters (plugin.cpp) and the bindings (binding.cpp) share.
#pragma once

#include "gelu_family/gelu_family.h"
#include "gelu_family/op_glue.h"

namespace trtplug
{

inline cudaError_t launchMember(
    glue_gelu::Params const&, DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchGelu(dtype, args, stream);
}

inline cudaError_t launchMember(
    glue_fast_gelu::Params const&, DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchFastGelu(dtype, args, stream);
}

inline cudaError_t launchMember(
    glue_bias_gelu::Params const&, DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasGelu(dtype, args, stream);
}

inline cudaError_t launchMember(
    glue_quick_gelu::Params const& p, DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchQuickGelu(dtype, args, p.alpha, stream);
}

} // namespace trtplug
