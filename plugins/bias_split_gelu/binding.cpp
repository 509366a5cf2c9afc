#include "bias_split_gelu/bias_split_gelu.h"
#include "bias_split_gelu/op_glue.h"
#include "common/op_binding.h"

#include <string>
#include <vector>

//! V = X + bias; Y = V[..., :D/2] * gelu(V[..., D/2:]) (exact GELU).
TRTPLUG_OP_BINDING(bias_split_gelu)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& bias = call.in(1);
    DeviceArray const& y = call.out(0);
    call.check(isFloatDType(x.dtype),
        std::string("x must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    call.check(!x.shape.empty() && x.lastDim() % 2 == 0, "x's last axis must have an even length");
    std::vector<int64_t> half = x.shape;
    half.back() /= 2;
    call.check(y.dtype == x.dtype && y.shape == half, "y must have x's dtype and x's shape with the last axis halved");
    call.check(bias.dtype == x.dtype && bias.shape.size() == 1 && bias.size == x.lastDim(),
        "bias must be 1-D with x's dtype and the length of x's last axis");
    int64_t const width = x.lastDim();
    int64_t const rows = width == 0 ? 0 : x.size / width;
    checkCuda(launchBiasSplitGelu(x.dtype, reinterpret_cast<void const*>(x.ptr), reinterpret_cast<void const*>(bias.ptr),
                  reinterpret_cast<void*>(y.ptr), rows, width, call.stream),
        "bias_split_gelu");
}
