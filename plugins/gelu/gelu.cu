#include "common/activations.cuh"
#include "common/elementwise.cuh"
#include "gelu/gelu.h"

namespace trtplug
{

cudaError_t launchGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kNone, false>(dtype, args, GeluErfAct{}, stream);
}

} // namespace trtplug
