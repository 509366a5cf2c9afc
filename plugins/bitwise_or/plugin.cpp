// TrtplugBitwiseOr: the shared integer elementwise adapter over launchBitwiseOr (spec: plugins/bitwise_or/spec.toml).
#include "common/int_elementwise_plugin.h"
#include "bitwise_or/bitwise_or.h"

namespace trtplug
{
namespace
{

struct BitwiseOrTraits
{
    static constexpr char const* kName = "TrtplugBitwiseOr";
    static constexpr int32_t kArity = 2;
    using Params = NoParams;
    static IntElementwiseFn launcher(Params const&) { return launchBitwiseOr; }
};

using BitwiseOrPlugin = IntElementwisePlugin<BitwiseOrTraits>;
TRTPLUG_REGISTER_PLUGIN(BitwiseOrPlugin);

} // namespace
} // namespace trtplug
