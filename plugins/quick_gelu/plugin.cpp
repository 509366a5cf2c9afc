// TrtplugQuickGelu: the IPluginV3 adapter over launchQuickGelu (spec: plugins/quick_gelu/spec.toml).
// Input X (rank >= 1), attribute alpha; Y has X's shape and type.
#include "common/bias_activation_plugin.h"
#include "quick_gelu/quick_gelu.h"

namespace trtplug
{
namespace
{

struct QuickGeluParams
{
    float alpha{1.702F};

    template <class V>
    void visit(V& v)
    {
        v("alpha", alpha);
    }
};

struct QuickGeluTraits
{
    static constexpr char const* kName = "TrtplugQuickGelu";
    static constexpr int32_t kMinInputs = 1;
    static constexpr int32_t kMaxInputs = 1;
    static constexpr char const* kInputNames[3] = {"X", "", ""};
    using Params = QuickGeluParams;
    static cudaError_t launch(DType dtype, ElementwiseArgs const& args, Params const& p, cudaStream_t stream)
    {
        return launchQuickGelu(dtype, args, p.alpha, stream);
    }
};

using QuickGeluPlugin = BiasActivationPlugin<QuickGeluTraits>;
TRTPLUG_REGISTER_PLUGIN(QuickGeluPlugin);

} // namespace
} // namespace trtplug
