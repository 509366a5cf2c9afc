// The deformable-convolution bindings: one per member over one body; the workspace is stream-
// ordered scratch (a plugin gets TensorRT's workspace instead).
#include "common/op_binding.h"
#include "common/stream_scratch.h"
#include "deform_conv/members.h"

namespace
{

trtplug::DeformConvDims dimsOf(trtplug::DeviceArray const* a)
{
    return a == nullptr ? trtplug::DeformConvDims{} : trtplug::DeformConvDims{int32_t(a->shape.size()), a->shape.data()};
}

template <class Params>
void runDeformConvMember(trtplug::OpCall<Params> const& call)
{
    using namespace trtplug;
    DeformConvSlots const s = memberSlots(call.params);
    DeviceArray const& x = call.in(s.x);
    DeviceArray const* mask = s.mask >= 0 ? call.inOrNull(s.mask) : nullptr;
    DeviceArray const* bias = s.bias >= 0 ? call.inOrNull(s.bias) : nullptr;
    DeviceArray const& y = call.out(0);
    call.check(isFloatDType(x.dtype), std::string("input must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    for (DeviceArray const* t : {&call.in(s.w), &call.in(s.offset), mask, bias, &y})
    {
        call.check(t == nullptr || t->dtype == x.dtype, "every tensor must have the input's dtype");
    }
    DeformConvGeometry g;
    std::string const problem = setDeformConvGeometry(g, dimsOf(&x), dimsOf(&call.in(s.w)), dimsOf(&call.in(s.offset)),
        dimsOf(mask), dimsOf(bias), dimsOf(&y), memberAttrs(call.params));
    call.check(problem.empty(), problem);
    DeformConvTensors t;
    t.x = reinterpret_cast<void const*>(x.ptr);
    t.w = reinterpret_cast<void const*>(call.in(s.w).ptr);
    t.offset = reinterpret_cast<void const*>(call.in(s.offset).ptr);
    t.mask = mask != nullptr ? reinterpret_cast<void const*>(mask->ptr) : nullptr;
    t.bias = bias != nullptr ? reinterpret_cast<void const*>(bias->ptr) : nullptr;
    t.y = reinterpret_cast<void*>(y.ptr);
    StreamScratch scratch(deformConvWorkspaceSize(x.dtype, g), call.stream);
    checkCuda(launchDeformConv(x.dtype, g, t, scratch.get(), call.stream), call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(onnx_deform_conv)
{
    runDeformConvMember(call);
}

TRTPLUG_OP_BINDING(mmcv_modulated_deform_conv)
{
    runDeformConvMember(call);
}

TRTPLUG_OP_BINDING(mmcv_deform_conv)
{
    runDeformConvMember(call);
}
