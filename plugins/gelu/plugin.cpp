// TrtplugGelu: the IPluginV3 adapter over launchGelu (spec: plugins/gelu/spec.toml).
// Input X (rank >= 1); Y has X's shape and type.
#include "common/bias_activation_plugin.h"
#include "gelu/gelu.h"

namespace trtplug
{
namespace
{

struct GeluTraits
{
    static constexpr char const* kName = "TrtplugGelu";
    static constexpr int32_t kMinInputs = 1;
    static constexpr int32_t kMaxInputs = 1;
    static constexpr char const* kInputNames[3] = {"X", "", ""};
    using Params = NoParams;
    static cudaError_t launch(DType dtype, ElementwiseArgs const& args, Params const&, cudaStream_t stream)
    {
        return launchGelu(dtype, args, stream);
    }
};

using GeluPlugin = BiasActivationPlugin<GeluTraits>;
TRTPLUG_REGISTER_PLUGIN(GeluPlugin);

} // namespace
} // namespace trtplug
