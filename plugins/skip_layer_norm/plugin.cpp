// TrtplugSkipLayerNorm: the shared skip-norm IPluginV3 adapter (plugins/common/skip_norm_plugin.h)
// in its LayerNorm form, over launchSkipLayerNorm (spec: plugins/skip_layer_norm/spec.toml).
#include "common/skip_norm_plugin.h"
#include "skip_layer_norm/op_glue.h"
#include "skip_layer_norm/skip_layer_norm.h"

namespace trtplug
{
namespace
{

struct SkipLayerNormTraits
{
    static constexpr bool kRms = false;
    static cudaError_t launch(SkipNormArgs const& a, cudaStream_t s) noexcept { return launchSkipLayerNorm(a, s); }
};

using SkipLayerNormPlugin = SkipNormPlugin<glue_skip_layer_norm::Glue, SkipLayerNormTraits>;
TRTPLUG_REGISTER_PLUGIN(SkipLayerNormPlugin);

} // namespace
} // namespace trtplug
