#include "bias_add/bias_add.h"
#include "bias_add/op_glue.h"
#include "common/elementwise_binding.h"
#include "common/op_binding.h"

//! X + bias + skip into Y (bias along the last axis, skip X's shape).
TRTPLUG_OP_BINDING(bias_add)
{
    using namespace trtplug;
    ElementwiseCall const c = elementwiseCall("bias_add", call.in(0), call.out(0), &call.in(1), &call.in(2));
    checkCuda(launchBiasAdd(c.dtype, c.args, call.stream), "bias_add");
}
