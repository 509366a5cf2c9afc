#include "bit_shift/bit_shift.h"
#include "bit_shift/op_glue.h"
#include "common/int_elementwise_binding.h"
#include "common/op_binding.h"

//! Z = X << Y or X >> Y (attribute `direction`, checked against the spec's choices by the glue).
TRTPLUG_OP_BINDING(bit_shift)
{
    ::trtplug::runIntElementwise(::trtplug::bitShiftLauncher(call.params.direction), call);
}
