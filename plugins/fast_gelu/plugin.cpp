// TrtplugFastGelu: the IPluginV3 adapter over launchFastGelu (spec: plugins/fast_gelu/spec.toml).
// Inputs X (rank >= 1) and optional 1-D bias of X's last-dim length; Y has X's shape and type.
#include "common/bias_activation_plugin.h"
#include "fast_gelu/fast_gelu.h"

namespace trtplug
{
namespace
{

struct FastGeluTraits
{
    static constexpr char const* kName = "TrtplugFastGelu";
    static constexpr int32_t kMinInputs = 1;
    static constexpr int32_t kMaxInputs = 2;
    static constexpr char const* kInputNames[3] = {"X", "bias", ""};
    using Params = NoParams;
    static cudaError_t launch(DType dtype, ElementwiseArgs const& args, Params const&, cudaStream_t stream)
    {
        return launchFastGelu(dtype, args, stream);
    }
};

using FastGeluPlugin = BiasActivationPlugin<FastGeluTraits>;
TRTPLUG_REGISTER_PLUGIN(FastGeluPlugin);

} // namespace
} // namespace trtplug
