// TrtplugBiasGelu: the IPluginV3 adapter over launchBiasGelu (spec: plugins/bias_gelu/spec.toml).
// Inputs A (rank >= 1) and B (1-D, A's last dimension); C has A's shape and type.
#include "bias_gelu/bias_gelu.h"
#include "common/bias_activation_plugin.h"

namespace trtplug
{
namespace
{

struct BiasGeluTraits
{
    static constexpr char const* kName = "TrtplugBiasGelu";
    static constexpr int32_t kMinInputs = 2;
    static constexpr int32_t kMaxInputs = 2;
    static constexpr char const* kInputNames[3] = {"A", "B", ""};
    using Params = NoParams;
    static cudaError_t launch(DType dtype, ElementwiseArgs const& args, Params const&, cudaStream_t stream)
    {
        return launchBiasGelu(dtype, args, stream);
    }
};

using BiasGeluPlugin = BiasActivationPlugin<BiasGeluTraits>;
TRTPLUG_REGISTER_PLUGIN(BiasGeluPlugin);

} // namespace
} // namespace trtplug
