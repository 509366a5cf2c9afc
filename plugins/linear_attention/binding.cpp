// LinearAttention binding: query, key, value, [past_state, decay, beta] -> output, present_state, checked
// as the plugin checks them (linearAttentionGeometry), then the launcher the plugin runs.
#include "common/op_binding.h"
#include "linear_attention/linear_attention.h"
#include "linear_attention/op_glue.h"

#include <array>
#include <string>
#include <vector>

namespace
{

bool isFloat(trtplug::DType t)
{
    using trtplug::DType;
    return t == DType::kFLOAT32 || t == DType::kFLOAT16 || t == DType::kBFLOAT16;
}

} // namespace

TRTPLUG_OP_BINDING(linear_attention)
{
    using namespace trtplug;
    DeviceArray const& query = call.in(0);
    call.check(isFloat(query.dtype), std::string("query must be float32, float16 or bfloat16, got ") + dtypeName(query.dtype));
    std::array<TensorShape, 6> shapes{};
    std::array<TensorShape const*, 6> given{};
    std::array<void const*, 6> data{};
    char const* const names[] = {"query", "key", "value", "past_state", "decay", "beta"};
    for (size_t i = 0; i < 6; ++i)
    {
        DeviceArray const* a = call.inOrNull(i);
        if (a == nullptr)
        {
            continue;
        }
        bool const isState = i == 3;
        call.check(isState ? isFloat(a->dtype) : a->dtype == query.dtype,
            std::string(names[i]) + (isState ? " must be float32, float16 or bfloat16" : " must have query's dtype"));
        shapes[i] = shapeOf(*a, names[i]);
        given[i] = &shapes[i];
        data[i] = reinterpret_cast<void const*>(a->ptr);
    }
    LinearAttentionGeometry g;
    std::string const problem
        = linearAttentionGeometry(call.params, shapes[0], shapes[1], shapes[2], given[3], given[4], given[5], g);
    call.check(problem.empty(), problem);
    DeviceArray const& output = call.out(0);
    DeviceArray const& present = call.out(1);
    DType const stateType = given[3] != nullptr ? call.in(3).dtype : query.dtype;
    std::vector<int64_t> const outShape{g.batch, g.tokens, int64_t{g.outHeads()} * g.dv};
    std::vector<int64_t> const stateShape{g.batch, g.kvHeads, g.dk, g.dv};
    call.check(output.dtype == query.dtype && output.shape == outShape, "output must have query's dtype and shape [B, T, max(Hq, Hkv) * d_v]");
    call.check(present.dtype == stateType && present.shape == stateShape,
        "present_state must have past_state's dtype (query's without one) and shape [B, Hkv, d_k, d_v]");
    checkCuda(launchLinearAttention(query.dtype, stateType, g, data[0], data[1], data[2], data[3], data[4], data[5],
                  reinterpret_cast<void*>(output.ptr), reinterpret_cast<void*>(present.ptr), call.stream),
        "linear_attention");
}
