// GridSample bindings (common/op_binding.h): one per member over one body (X, grid -> Y).
#include "common/op_binding.h"
#include "grid_sample/grid_sample.h"
#include "grid_sample/op_glue.h"

namespace
{

template <class Params>
void runGridSample(trtplug::OpCall<Params> const& call)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& grid = call.in(1);
    DeviceArray const& y = call.out(0);
    call.check(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16 || x.dtype == DType::kBFLOAT16,
        std::string("X must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    call.check(grid.dtype == x.dtype && y.dtype == x.dtype, "grid and Y must have X's dtype");
    TensorShape const xs = shapeOf(x, "X");
    TensorShape const gs = shapeOf(grid, "grid");
    TensorShape const ys = shapeOf(y, "Y");
    std::string const problem = checkGridSampleShapes(xs, gs, &ys);
    call.check(problem.empty(), problem);
    checkCuda(launchGridSample(x.dtype, gridSampleConfig(call.params), xs, gs, reinterpret_cast<void const*>(x.ptr),
                  reinterpret_cast<void const*>(grid.ptr), reinterpret_cast<void*>(y.ptr), call.stream),
        call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(onnx_grid_sample)
{
    runGridSample(call);
}

TRTPLUG_OP_BINDING(mmcv_grid_sampler)
{
    runGridSample(call);
}
