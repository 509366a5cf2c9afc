// RoiAlign bindings (common/op_binding.h): one per member over one body (X, rois[, batch_indices] -> Y).
#include "common/op_binding.h"
#include "roi_align/op_glue.h"
#include "roi_align/roi_align.h"

namespace
{

template <class Params>
void runRoiAlign(trtplug::OpCall<Params> const& call, bool batchInput)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& rois = call.in(1);
    DeviceArray const& y = call.out(0);
    call.check(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16 || x.dtype == DType::kBFLOAT16,
        std::string("X must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    call.check(rois.dtype == x.dtype && y.dtype == x.dtype, "rois and Y must have X's dtype");
    RoiAlignConfig const cfg = roiAlignConfig(call.params);
    TensorShape const xs = shapeOf(x, "X");
    TensorShape const ys = shapeOf(y, "Y");
    TensorShape batchShape{};
    int64_t const* batch = nullptr;
    if (batchInput)
    {
        DeviceArray const& b = call.in(2);
        call.check(b.dtype == DType::kINT64, std::string("batch_indices must be int64, got ") + dtypeName(b.dtype));
        batchShape = shapeOf(b, "batch_indices");
        batch = reinterpret_cast<int64_t const*>(b.ptr);
    }
    std::string const problem = checkRoiAlignShapes(cfg, xs, shapeOf(rois, "rois"), batchInput ? &batchShape : nullptr, &ys);
    call.check(problem.empty(), problem);
    checkCuda(launchRoiAlign(x.dtype, cfg, xs, rois.shape.empty() ? 0 : rois.shape[0],
                  reinterpret_cast<void const*>(x.ptr), reinterpret_cast<void const*>(rois.ptr), batch,
                  reinterpret_cast<void*>(y.ptr), call.stream),
        call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(onnx_roi_align)
{
    runRoiAlign(call, true);
}

TRTPLUG_OP_BINDING(onnx_roi_align_opset10)
{
    runRoiAlign(call, true);
}

TRTPLUG_OP_BINDING(mmcv_roi_align)
{
    runRoiAlign(call, false);
}
