#include "center_crop_pad/center_crop_pad.h"
#include "center_crop_pad/center_crop_pad_axes.h"
#include "center_crop_pad/op_glue.h"
#include "common/op_binding.h"

//! Centred crop/zero pad of input_data to output_data's shape, which the caller allocated from
//! shape's values (shape, a device int64 array with one value per axis in `axes`, is not read).
TRTPLUG_OP_BINDING(center_crop_pad)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& sa = call.in(1);
    DeviceArray const& ya = call.out(0);
    call.check(ya.dtype == xa.dtype, "output_data must have input_data's dtype");
    call.check(xa.shape.size() == ya.shape.size(), "output_data must have input_data's rank");
    call.check(xa.shape.size() <= static_cast<size_t>(kCenterCropPadMaxRank), "rank above 8");
    auto const rank = static_cast<int32_t>(xa.shape.size());
    std::vector<int32_t> axes;
    std::string problem = centerCropPadAxes(call.params.axes, rank, axes);
    call.check(problem.empty(), problem);
    call.check(sa.dtype == DType::kINT64 && sa.shape == std::vector<int64_t>{static_cast<int64_t>(axes.size())},
        "shape must be int64 with one value per axis in axes (every axis when empty)");
    problem = centerCropPadDimsProblem(rank, xa.shape.data(), ya.shape.data(), axes);
    call.check(problem.empty(), problem);
    checkCuda(launchCenterCropPad(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr),
                  rank, xa.shape.data(), ya.shape.data(), call.stream),
        "center_crop_pad");
}
