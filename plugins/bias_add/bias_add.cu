#include "bias_add/bias_add.h"
#include "common/activations.cuh"
#include "common/elementwise.cuh"

namespace trtplug
{

cudaError_t launchBiasAdd(DType dtype, ElementwiseArgs const& args, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kRequired, true>(dtype, args, IdentityAct{}, stream);
}

} // namespace trtplug
