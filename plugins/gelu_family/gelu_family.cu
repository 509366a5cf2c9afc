#include "common/activations.cuh"
#include "common/elementwise.cuh"
#include "gelu_family/gelu_family.h"

namespace trtplug
{

cudaError_t launchGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kNone, false>(dtype, args, GeluErfAct{}, stream);
}

cudaError_t launchFastGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kOptional, false>(dtype, args, GeluTanhAct{}, stream);
}

cudaError_t launchBiasGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kRequired, false>(dtype, args, GeluErfAct{}, stream);
}

cudaError_t launchQuickGelu(DType dtype, ElementwiseArgs const& args, float alpha, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kNone, false>(dtype, args, QuickGeluAct{alpha}, stream);
}

} // namespace trtplug
