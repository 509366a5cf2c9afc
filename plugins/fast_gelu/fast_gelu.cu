#include "common/activations.cuh"
#include "common/elementwise.cuh"
#include "fast_gelu/fast_gelu.h"

namespace trtplug
{

cudaError_t launchFastGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kOptional, false>(dtype, args, GeluTanhAct{}, stream);
}

} // namespace trtplug
