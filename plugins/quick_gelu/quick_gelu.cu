#include "common/activations.cuh"
#include "common/elementwise.cuh"
#include "quick_gelu/quick_gelu.h"

namespace trtplug
{

cudaError_t launchQuickGelu(DType dtype, ElementwiseArgs const& args, float alpha, cudaStream_t stream) noexcept
{
    return launchBiasActivation<BiasInput::kNone, false>(dtype, args, QuickGeluAct{alpha}, stream);
}

} // namespace trtplug
