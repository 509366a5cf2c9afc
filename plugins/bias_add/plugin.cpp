// TrtplugBiasAdd: the IPluginV3 adapter over launchBiasAdd (spec: plugins/bias_add/spec.toml).
// Inputs X (rank >= 1), bias (1-D, X's last dimension), skip (X's shape); Y has X's shape and type.
#include "bias_add/bias_add.h"
#include "bias_add/op_glue.h"
#include "common/bias_activation_plugin.h"

namespace trtplug
{
namespace
{

struct BiasAddTraits : glue_bias_add::Glue
{
    static cudaError_t launch(DType dtype, ElementwiseArgs const& args, Params const&, cudaStream_t stream)
    {
        return launchBiasAdd(dtype, args, stream);
    }
};

using BiasAddPlugin = BiasActivationPlugin<BiasAddTraits>;
TRTPLUG_REGISTER_PLUGIN(BiasAddPlugin);

} // namespace
} // namespace trtplug
