// The bitwise family's bindings: one per member, all through the shared integer elementwise call.
#include "bitwise/bitwise.h"
#include "bitwise/op_glue.h"
#include "common/int_elementwise_binding.h"
#include "common/op_binding.h"

TRTPLUG_OP_BINDING(bitwise_and)
{
    ::trtplug::runIntElementwise(::trtplug::bitwiseLauncher(::trtplug::BitwiseOp::kAnd), call);
}

TRTPLUG_OP_BINDING(bitwise_or)
{
    ::trtplug::runIntElementwise(::trtplug::bitwiseLauncher(::trtplug::BitwiseOp::kOr), call);
}

TRTPLUG_OP_BINDING(bitwise_xor)
{
    ::trtplug::runIntElementwise(::trtplug::bitwiseLauncher(::trtplug::BitwiseOp::kXor), call);
}

TRTPLUG_OP_BINDING(bitwise_not)
{
    ::trtplug::runIntElementwise(::trtplug::bitwiseLauncher(::trtplug::BitwiseOp::kNot), call);
}
