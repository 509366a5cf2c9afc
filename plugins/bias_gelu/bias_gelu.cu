#include "bias_gelu/bias_gelu.h"
#include "common/activations.cuh"
#include "common/elementwise.cuh"

namespace trtplug
{

cudaError_t launchBiasGelu(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kRequired, false>(dtype, args, GeluErfAct{}, stream);
}

} // namespace trtplug
