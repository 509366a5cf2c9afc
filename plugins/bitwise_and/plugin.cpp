// TrtplugBitwiseAnd: the shared integer elementwise adapter over launchBitwiseAnd (spec: plugins/bitwise_and/spec.toml).
#include "common/int_elementwise_plugin.h"
#include "bitwise_and/bitwise_and.h"

namespace trtplug
{
namespace
{

struct BitwiseAndTraits
{
    static constexpr char const* kName = "TrtplugBitwiseAnd";
    static constexpr int32_t kArity = 2;
    using Params = NoParams;
    static IntElementwiseFn launcher(Params const&) { return launchBitwiseAnd; }
};

using BitwiseAndPlugin = IntElementwisePlugin<BitwiseAndTraits>;
TRTPLUG_REGISTER_PLUGIN(BitwiseAndPlugin);

} // namespace
} // namespace trtplug
