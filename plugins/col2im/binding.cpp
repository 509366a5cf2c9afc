#include "col2im/col2im.h"
#include "col2im/op_glue.h"
#include "common/op_binding.h"

//! Col2Im of input into output, whose shape (N, C, image...) the caller allocated from
//! image_shape's values (image_shape, a device int64 array, is not read); block_shape is a device
//! int64 array read by the kernel only (as the plugin receives its data copy): values that do not
//! fit input's shape give a NaN output.
TRTPLUG_OP_BINDING(col2im)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ia = call.in(1);
    DeviceArray const& ba = call.in(2);
    DeviceArray const& ya = call.out(0);
    call.check(isFloatDType(xa.dtype), "input must be float32, float16 or bfloat16");
    call.check(ya.dtype == xa.dtype, "output must have input's dtype");
    call.check(ba.dtype == DType::kINT64 && ba.shape.size() == 1, "block_shape must be a 1-D int64 array");
    Col2ImGeometry g{};
    std::string const problem = setCol2ImGeometry(g, static_cast<int32_t>(xa.shape.size()), xa.shape.data(),
        static_cast<int32_t>(ya.shape.size()), ya.shape.data(), ba.shape[0], call.params.dilations, call.params.pads,
        call.params.strides);
    call.check(problem.empty(), problem);
    call.check(ia.dtype == DType::kINT64 && ia.shape == std::vector<int64_t>{g.spatial},
        "image_shape must be int64 with one value per spatial axis of the output");
    checkCuda(launchCol2Im(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<int64_t const*>(ba.ptr),
                  reinterpret_cast<void*>(ya.ptr), g, call.stream),
        "col2im");
}
