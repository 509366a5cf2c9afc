#include "common/skip_norm.cuh"
#include "skip_simplified_layer_norm/skip_simplified_layer_norm.h"

namespace trtplug
{

cudaError_t launchSkipSimplifiedLayerNorm(SkipNormArgs const& a, cudaStream_t stream) noexcept
{
    return launchSkipNorm</*kRms=*/true>(a, stream);
}

} // namespace trtplug
