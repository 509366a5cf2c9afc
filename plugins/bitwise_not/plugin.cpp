// TrtplugBitwiseNot: the shared integer elementwise adapter over launchBitwiseNot (spec: plugins/bitwise_not/spec.toml).
#include "bitwise_not/bitwise_not.h"
#include "common/int_elementwise_plugin.h"

namespace trtplug
{
namespace
{

struct BitwiseNotTraits
{
    static constexpr char const* kName = "TrtplugBitwiseNot";
    static constexpr int32_t kArity = 1;
    using Params = NoParams;
    static IntElementwiseFn launcher(Params const&) { return launchBitwiseNot; }
};

using BitwiseNotPlugin = IntElementwisePlugin<BitwiseNotTraits>;
TRTPLUG_REGISTER_PLUGIN(BitwiseNotPlugin);

} // namespace
} // namespace trtplug
