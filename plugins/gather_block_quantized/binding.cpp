// GatherBlockQuantized binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes
// named, checked and parsed by the generated glue (gather_block_quantized/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "gather_block_quantized/gather_block_quantized.h"
#include "gather_block_quantized/op_glue.h"

//! output = the gathered rows of the dequantized table: dtype and shape checks, then the launch.
TRTPLUG_OP_BINDING(gather_block_quantized)
{
    using namespace trtplug;
    DeviceArray const& data = call.in(0);
    DeviceArray const& indices = call.in(1);
    DeviceArray const& scales = call.in(2);
    DeviceArray const* zeroPoints = call.inOrNull(3);
    DeviceArray const& output = call.out(0);
    call.check(data.dtype == DType::kUINT8, std::string("data must be uint8, got ") + dtypeName(data.dtype));
    call.check(indices.dtype == DType::kINT32 || indices.dtype == DType::kINT64,
        std::string("indices must be int32 or int64, got ") + dtypeName(indices.dtype));
    call.check(isFloatDType(scales.dtype),
        std::string("scales must be float32, float16 or bfloat16, got ") + dtypeName(scales.dtype));
    call.check(zeroPoints == nullptr || zeroPoints->dtype == DType::kUINT8, "zero_points must be uint8");
    call.check(output.dtype == scales.dtype, "output must have the scales' dtype");
    GbqShapes const shapes{shapeOf(data, "data"), shapeOf(indices, "indices"), shapeOf(scales, "scales"),
        zeroPoints != nullptr ? shapeOf(*zeroPoints, "zero_points") : TensorShape{}, shapeOf(output, "output")};
    GbqProblem p{};
    std::string const problem = gbqCheckShapes(call.params, shapes, p);
    call.check(problem.empty(), problem);
    p.data = reinterpret_cast<uint8_t const*>(data.ptr);
    p.indices = reinterpret_cast<void const*>(indices.ptr);
    p.scales = reinterpret_cast<void const*>(scales.ptr);
    p.zeroPoints = p.zeroRowBytes > 0 ? reinterpret_cast<uint8_t const*>(zeroPoints->ptr) : nullptr;
    p.output = reinterpret_cast<void*>(output.ptr);
    checkCuda(launchGatherBlockQuantized(scales.dtype, indices.dtype, p, call.stream), "gather_block_quantized");
}
