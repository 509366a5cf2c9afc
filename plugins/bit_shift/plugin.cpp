// TrtplugBitShift: the shared integer elementwise adapter over launchBitShiftLeft/Right
// (spec: plugins/bit_shift/spec.toml). Field `direction` is "LEFT" or "RIGHT".
#include "bit_shift/bit_shift.h"
#include "common/int_elementwise_plugin.h"

namespace trtplug
{
namespace
{

struct BitShiftParams
{
    std::string direction;

    template <class V>
    void visit(V& v)
    {
        v("direction", direction);
    }
};

struct BitShiftTraits
{
    static constexpr char const* kName = "TrtplugBitShift";
    static constexpr int32_t kArity = 2;
    using Params = BitShiftParams;
    static IntElementwiseFn launcher(Params const& p)
    {
        TRTPLUG_ENSURE(p.direction == "LEFT" || p.direction == "RIGHT",
            "field 'direction' must be \"LEFT\" or \"RIGHT\", got \"" + p.direction + "\"");
        return p.direction == "LEFT" ? launchBitShiftLeft : launchBitShiftRight;
    }
};

using BitShiftPlugin = IntElementwisePlugin<BitShiftTraits>;
TRTPLUG_REGISTER_PLUGIN(BitShiftPlugin);

} // namespace
} // namespace trtplug
