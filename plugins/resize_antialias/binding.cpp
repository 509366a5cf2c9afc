// Antialiased Resize binding (common/op_binding.h): X and the attributes (roi, scales, sizes as
// the rewrite folds them into fields) plan the resize; Y must have the planned shape.
#include "common/op_binding.h"
#include "resize_antialias/op_glue.h"
#include "resize_antialias/resize_antialias.h"

//! Resize X into Y. The folded inputs roi/scales/sizes come as attributes (their inputs are not
//! read). Scratch: `workspace` (a device array of at least the planned bytes, as TensorRT hands
//! the plugin), or stream-ordered memory allocated for the call.
TRTPLUG_OP_BINDING(resize_antialias)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ya = call.out(0);
    call.check(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16 || xa.dtype == DType::kBFLOAT16
            || xa.dtype == DType::kUINT8,
        std::string("X must be float32, float16, bfloat16 or uint8, got ") + dtypeName(xa.dtype));
    call.check(ya.dtype == xa.dtype, "Y must have X's dtype");
    ResizePlan plan{};
    std::string problem = planResize(plan, shapeOf(xa, "X"), call.params);
    call.check(problem.empty(), problem);
    problem = checkResizeOutput(plan, shapeOf(ya, "Y"));
    call.check(problem.empty(), problem);
    size_t const bytes = resizeWorkspaceBytes(plan);
    CallScratch const scratch(call, bytes, "this resize needs");
    void* const scratchPtr = scratch.get();
    checkCuda(launchResizeAntialias(xa.dtype, plan, reinterpret_cast<void const*>(xa.ptr),
                  reinterpret_cast<void*>(ya.ptr), scratchPtr, call.stream),
        "resize_antialias");
}
