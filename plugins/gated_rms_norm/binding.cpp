// GatedRMSNorm binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes
// named, checked and parsed by the generated glue (gated_rms_norm/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "gated_rms_norm/gated_rms_norm.h"
#include "gated_rms_norm/op_glue.h"

//! GatedRMSNorm into Y: dtype and shape checks, then the launch.
TRTPLUG_OP_BINDING(gated_rms_norm)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& scale = call.in(1);
    DeviceArray const& gate = call.in(2);
    DeviceArray const& y = call.out(0);
    call.check(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16 || x.dtype == DType::kBFLOAT16,
        std::string("X must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    call.check(scale.dtype == x.dtype && gate.dtype == x.dtype, "scale and gate must have X's dtype");
    call.check(y.dtype == x.dtype && y.shape == x.shape, "Y must have X's dtype and shape");
    TensorShape const xDims = shapeOf(x, "X");
    int64_t rows = 0;
    int64_t cols = 0;
    std::string const problem = gatedRmsNormRows(xDims, shapeOf(scale, "scale"), shapeOf(gate, "gate"), rows, cols);
    call.check(problem.empty(), problem);
    auto const ptr = [](DeviceArray const& a) { return reinterpret_cast<void const*>(a.ptr); };
    checkCuda(launchGatedRmsNorm(x.dtype, call.params, ptr(x), xDims, ptr(scale), shapeOf(scale, "scale"), ptr(gate),
                  shapeOf(gate, "gate"), reinterpret_cast<void*>(y.ptr), call.stream),
        "gated_rms_norm");
}
