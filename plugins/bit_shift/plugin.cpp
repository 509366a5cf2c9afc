// TrtplugBitShift: the shared integer elementwise adapter over launchBitShiftLeft/Right
// (spec: plugins/bit_shift/spec.toml, whose choices rule limits field `direction` to "LEFT"/"RIGHT").
#include "bit_shift/bit_shift.h"
#include "bit_shift/op_glue.h"
#include "common/int_elementwise_plugin.h"

namespace trtplug
{
namespace
{

struct BitShiftTraits : glue_bit_shift::Glue
{
    static IntElementwiseFn launcher(Params const& p) { return bitShiftLauncher(p.direction); }
};

using BitShiftPlugin = IntElementwisePlugin<BitShiftTraits>;
TRTPLUG_REGISTER_PLUGIN(BitShiftPlugin);

} // namespace
} // namespace trtplug
