#include "common/elementwise_binding.h"
#include "common/op_binding.h"
#include "gelu/gelu.h"
#include "gelu/op_glue.h"

//! Exact (erf) GELU of X into Y.
TRTPLUG_OP_BINDING(gelu)
{
    using namespace trtplug;
    ElementwiseCall const c = elementwiseCall("gelu", call.in(0), call.out(0));
    checkCuda(launchGelu(c.dtype, c.args, call.stream), "gelu");
}
