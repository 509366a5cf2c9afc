// TrtplugGelu, TrtplugFastGelu, TrtplugBiasGelu, TrtplugQuickGelu: the shared bias-activation
// adapter over each member's launcher; identity, counts, input names and fields come from the
// generated glue (spec: plugins/gelu_family/spec.toml).
#include "common/bias_activation_plugin.h"
#include "gelu_family/members.h"

namespace trtplug
{
namespace
{

template <class Glue>
struct GeluFamilyTraits : Glue
{
    static cudaError_t launch(DType dtype, ElementwiseArgs const& args, typename Glue::Params const& p,
        cudaStream_t stream)
    {
        return launchMember(p, dtype, args, stream);
    }
};

using GeluPlugin = BiasActivationPlugin<GeluFamilyTraits<glue_gelu::Glue>>;
using FastGeluPlugin = BiasActivationPlugin<GeluFamilyTraits<glue_fast_gelu::Glue>>;
using BiasGeluPlugin = BiasActivationPlugin<GeluFamilyTraits<glue_bias_gelu::Glue>>;
using QuickGeluPlugin = BiasActivationPlugin<GeluFamilyTraits<glue_quick_gelu::Glue>>;
TRTPLUG_REGISTER_PLUGIN(GeluPlugin);
TRTPLUG_REGISTER_PLUGIN(FastGeluPlugin);
TRTPLUG_REGISTER_PLUGIN(BiasGeluPlugin);
TRTPLUG_REGISTER_PLUGIN(QuickGeluPlugin);

} // namespace
} // namespace trtplug
