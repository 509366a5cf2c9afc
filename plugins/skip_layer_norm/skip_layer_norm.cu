#include "common/skip_norm.cuh"
#include "skip_layer_norm/skip_layer_norm.h"

namespace trtplug
{

cudaError_t launchSkipLayerNorm(SkipNormArgs const& a, cudaStream_t stream) noexcept
{
    return launchSkipNorm</*kRms=*/false>(a, stream);
}

} // namespace trtplug
