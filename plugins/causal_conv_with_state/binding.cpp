// CausalConvWithState binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes
// named, checked and parsed by the generated glue (causal_conv_with_state/op_glue.h, from the spec).
#include "causal_conv_with_state/causal_conv_with_state.h"
#include "causal_conv_with_state/op_glue.h"
#include "common/op_binding.h"

namespace
{

//! The array's data, or null when it is absent or empty (the rewrite's stand-in for an absent input).
void const* dataOrNull(trtplug::DeviceArray const* a)
{
    return a != nullptr && a->size != 0 ? reinterpret_cast<void const*>(a->ptr) : nullptr;
}

} // namespace

//! input, weight[, bias][, past_state] -> output, present_state: dtype and shape checks, then the launch.
TRTPLUG_OP_BINDING(causal_conv_with_state)
{
    using namespace trtplug;
    DeviceArray const& input = call.in(0);
    DeviceArray const& weight = call.in(1);
    DeviceArray const* bias = call.inOrNull(2);
    DeviceArray const* past = call.inOrNull(3);
    DeviceArray const& output = call.out(0);
    DeviceArray const& present = call.out(1);
    call.check(isFloatDType(input.dtype),
        std::string("input must be float32, float16 or bfloat16, got ") + dtypeName(input.dtype));
    for (DeviceArray const* a : {&weight, bias, past, &output, &present})
    {
        call.check(a == nullptr || a->dtype == input.dtype, "every tensor must have input's dtype");
    }
    TensorShape const inputShape = shapeOf(input, "input");
    TensorShape const biasShape = bias != nullptr ? shapeOf(*bias, "bias") : TensorShape{};
    TensorShape const pastShape = past != nullptr ? shapeOf(*past, "past_state") : TensorShape{};
    CausalConvGeometry g;
    std::string const problem = causalConvGeometry(call.params, inputShape, shapeOf(weight, "weight"),
        bias != nullptr ? &biasShape : nullptr, past != nullptr ? &pastShape : nullptr, g);
    call.check(problem.empty(), problem);
    call.check(output.shape == input.shape, "output must have input's shape");
    TensorShape const state = causalConvStateShape(g, inputShape);
    call.check(present.shape == std::vector<int64_t>(state.d, state.d + state.rank),
        "present_state must be (batch, channels, (k - 1) * dilation), or (batch, (k - 1) * dilation, d1, ..., dn) "
        "channels-last");
    checkCuda(launchCausalConvWithState(input.dtype, call.params, g, dataOrNull(&input), dataOrNull(&weight),
                  dataOrNull(bias), dataOrNull(past), reinterpret_cast<void*>(output.ptr),
                  reinterpret_cast<void*>(present.ptr), call.stream),
        call.op.c_str());
}
