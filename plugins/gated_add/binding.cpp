// GatedAdd binding: trtplug's one convention (common/op_binding.h), inputs/outputs named, checked
// and parsed by the generated glue (gated_add/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "gated_add/gated_add.h"
#include "gated_add/op_glue.h"

//! GatedAdd (plain mode) into output: dtype and shape checks, then the launch.
TRTPLUG_OP_BINDING(gated_add)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& y = call.in(1);
    DeviceArray const& gate = call.in(2);
    DeviceArray const& out = call.out(0);
    call.check(isFloatDType(x.dtype), std::string("X must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    call.check(y.dtype == x.dtype && gate.dtype == x.dtype, "Y and gate must have X's dtype");
    call.check(out.dtype == x.dtype && out.shape == x.shape, "output must have X's dtype and shape");
    GatedAddArgs args;
    std::string const problem = gatedAddShapes(args, shapeOf(x, "X"), shapeOf(y, "Y"), shapeOf(gate, "gate"));
    call.check(problem.empty(), problem);
    args.dtype = x.dtype;
    args.x = reinterpret_cast<void const*>(x.ptr);
    args.y = reinterpret_cast<void const*>(y.ptr);
    args.gate = reinterpret_cast<void const*>(gate.ptr);
    args.out = reinterpret_cast<void*>(out.ptr);
    checkCuda(launchGatedAdd(args, call.stream), "gated_add");
}
