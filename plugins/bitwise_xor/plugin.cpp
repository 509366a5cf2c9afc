// TrtplugBitwiseXor: the shared integer elementwise adapter over launchBitwiseXor (spec: plugins/bitwise_xor/spec.toml).
#include "common/int_elementwise_plugin.h"
#include "bitwise_xor/bitwise_xor.h"

namespace trtplug
{
namespace
{

struct BitwiseXorTraits
{
    static constexpr char const* kName = "TrtplugBitwiseXor";
    static constexpr int32_t kArity = 2;
    using Params = NoParams;
    static IntElementwiseFn launcher(Params const&) { return launchBitwiseXor; }
};

using BitwiseXorPlugin = IntElementwisePlugin<BitwiseXorTraits>;
TRTPLUG_REGISTER_PLUGIN(BitwiseXorPlugin);

} // namespace
} // namespace trtplug
