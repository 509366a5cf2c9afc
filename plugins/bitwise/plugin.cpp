// TrtplugBitwiseAnd/Or/Xor/Not: the shared integer elementwise adapter over each member's
// launcher; identity, counts and fields come from the generated glue (spec: plugins/bitwise/spec.toml).
#include "bitwise/bitwise.h"
#include "bitwise/op_glue.h"
#include "common/int_elementwise_plugin.h"

namespace trtplug
{
namespace
{

template <class Glue, BitwiseOp kOp>
struct BitwiseTraits : Glue
{
    static IntElementwiseFn launcher(typename Glue::Params const&) { return bitwiseLauncher(kOp); }
};

using BitwiseAndPlugin = IntElementwisePlugin<BitwiseTraits<glue_bitwise_and::Glue, BitwiseOp::kAnd>>;
using BitwiseOrPlugin = IntElementwisePlugin<BitwiseTraits<glue_bitwise_or::Glue, BitwiseOp::kOr>>;
using BitwiseXorPlugin = IntElementwisePlugin<BitwiseTraits<glue_bitwise_xor::Glue, BitwiseOp::kXor>>;
using BitwiseNotPlugin = IntElementwisePlugin<BitwiseTraits<glue_bitwise_not::Glue, BitwiseOp::kNot>>;
TRTPLUG_REGISTER_PLUGIN(BitwiseAndPlugin);
TRTPLUG_REGISTER_PLUGIN(BitwiseOrPlugin);
TRTPLUG_REGISTER_PLUGIN(BitwiseXorPlugin);
TRTPLUG_REGISTER_PLUGIN(BitwiseNotPlugin);

} // namespace
} // namespace trtplug
