// QMoE binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes named,
// checked and parsed by the generated glue (qmoe/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "qmoe/op_glue.h"
#include "qmoe/qmoe.h"

namespace
{

using trtplug::DeviceArray;

constexpr char const* kNames[] = {"input", "router_probs", "fc1_experts_weights", "fc1_scales", "fc1_experts_bias",
    "fc2_experts_weights", "fc2_scales", "fc2_experts_bias", "fc3_experts_weights", "fc3_scales", "fc3_experts_bias",
    "fc1_zero_points", "fc2_zero_points", "fc3_zero_points", "router_weights", "fc1_global_scale",
    "fc2_global_scale"};
constexpr size_t kInputs = sizeof(kNames) / sizeof(kNames[0]);

//! Codes and zero points are uint8; every other input has input's dtype.
bool isPacked(size_t i)
{
    return i == 2 || i == 5 || i == 8 || i == 11 || i == 12 || i == 13;
}

} // namespace

//! output = QMoE(input, router_probs, quantized fc1/fc2(/fc3) with scales, zero points, biases,
//! router_weights, MXFP4's global scales). Scratch: `workspace` (at least moe_workspace_bytes: MoE's scratch, as TensorRT
//! hands the plugin), or stream-ordered memory.
TRTPLUG_OP_BINDING(qmoe)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    call.check(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16 || x.dtype == DType::kBFLOAT16,
        std::string("input must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    bool const mxfp4 = call.params.quant_type == "fp4";
    for (size_t i = 1; i < kInputs; ++i)
    {
        bool const global = i == 15 || i == 16;
        bool const bytes = isPacked(i) || (mxfp4 && (i == 3 || i == 6 || i == 9)); // MXFP4's E8M0 scales as uint8
        DType const want = global ? DType::kFLOAT32 : bytes ? DType::kUINT8 : x.dtype;
        DeviceArray const* a = call.inOrNull(i);
        call.check(a == nullptr || a->size == 0 || a->dtype == want, // empty: absent, of any dtype
            std::string(kNames[i])
                + (global ? " must be float32" : bytes ? " must be uint8" : " must have input's dtype"));
    }
    DeviceArray const& y = call.out(0);
    call.check(y.dtype == x.dtype, "output must have input's dtype");
    auto shape = [&](size_t i) { return shapeOf(call.in(i), kNames[i]); };
    auto opt = [&](size_t i) { return optionalShape(call.inOrNull(i), kNames[i]); };
    QmoeShapes const shapes{MoeShapes{shape(0), shape(1), shape(2), opt(4), shape(5), opt(7), opt(8), opt(10),
                                shapeOf(y, "output")},
        shape(3), shape(6), opt(9), opt(11), opt(12), opt(13), opt(14), opt(15), opt(16)};
    QmoeProblem p{};
    std::string const problem = qmoeCheckShapes(call.params, shapes, p);
    call.check(problem.empty(), problem);
    p.moe.input = reinterpret_cast<void const*>(x.ptr);
    p.moe.router = reinterpret_cast<void const*>(call.in(1).ptr);
    p.moe.fc1Bias = optionalPtr(call.inOrNull(4));
    p.moe.fc2Bias = optionalPtr(call.inOrNull(7));
    p.moe.fc3Bias = optionalPtr(call.inOrNull(10));
    p.moe.routerWeights = optionalPtr(call.inOrNull(14));
    p.moe.output = reinterpret_cast<void*>(y.ptr);
    auto ptr = [&](size_t i) { return reinterpret_cast<void const*>(call.in(i).ptr); };
    p.fc1 = QmoeProjection{ptr(2), ptr(3), optionalPtr(call.inOrNull(11)), p.fc1.bits, optionalPtr(call.inOrNull(15))};
    p.fc2 = QmoeProjection{ptr(5), ptr(6), optionalPtr(call.inOrNull(12)), p.fc2.bits, optionalPtr(call.inOrNull(16))};
    p.fc3 = QmoeProjection{optionalPtr(call.inOrNull(8)), optionalPtr(call.inOrNull(9)), optionalPtr(call.inOrNull(13)),
        p.fc3.bits};
    size_t const bytes = moeWorkspaceBytes(p.moe);
    CallScratch const scratch(call, bytes, "moe_workspace_bytes gives");
    checkCuda(launchQmoe(x.dtype, p, scratch.get(), bytes, call.stream), "qmoe");
}
