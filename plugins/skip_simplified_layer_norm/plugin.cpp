// TrtplugSkipSimplifiedLayerNorm: the shared skip-norm IPluginV3 adapter
// (plugins/common/skip_norm_plugin.h) in its RMS form, over launchSkipSimplifiedLayerNorm
// (spec: plugins/skip_simplified_layer_norm/spec.toml).
#include "common/skip_norm_plugin.h"
#include "skip_simplified_layer_norm/op_glue.h"
#include "skip_simplified_layer_norm/skip_simplified_layer_norm.h"

namespace trtplug
{
namespace
{

struct SkipSimplifiedLayerNormTraits
{
    static constexpr bool kRms = true;
    static cudaError_t launch(SkipNormArgs const& a, cudaStream_t s) noexcept { return launchSkipSimplifiedLayerNorm(a, s); }
};

using SkipSimplifiedLayerNormPlugin = SkipNormPlugin<glue_skip_simplified_layer_norm::Glue, SkipSimplifiedLayerNormTraits>;
TRTPLUG_REGISTER_PLUGIN(SkipSimplifiedLayerNormPlugin);

} // namespace
} // namespace trtplug
