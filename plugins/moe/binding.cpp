// MoE binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes named,
// checked and parsed by the generated glue (moe/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "moe/moe.h"
#include "moe/op_glue.h"

//! output = MoE(input, router_probs, fc1/fc2(/fc3) weights and biases). Scratch: `workspace` (a
//! device array of at least moe_workspace_bytes, as TensorRT hands the plugin), or stream-ordered memory.
TRTPLUG_OP_BINDING(moe)
{
    using namespace trtplug;
    static char const* const kNames[] = {"input", "router_probs", "fc1_experts_weights", "fc1_experts_bias",
        "fc2_experts_weights", "fc2_experts_bias", "fc3_experts_weights", "fc3_experts_bias"};
    DeviceArray const& x = call.in(0);
    call.check(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16 || x.dtype == DType::kBFLOAT16,
        std::string("input must be float32, float16 or bfloat16, got ") + dtypeName(x.dtype));
    for (size_t i = 1; i < 8; ++i)
    {
        call.check(call.inOrNull(i) == nullptr || call.in(i).dtype == x.dtype,
            std::string(kNames[i]) + " must have input's dtype");
    }
    DeviceArray const& y = call.out(0);
    call.check(y.dtype == x.dtype, "output must have input's dtype");
    MoeShapes const shapes{shapeOf(x, "input"), shapeOf(call.in(1), "router_probs"),
        shapeOf(call.in(2), "fc1_experts_weights"), optionalShape(call.inOrNull(3), "fc1_experts_bias"),
        shapeOf(call.in(4), "fc2_experts_weights"), optionalShape(call.inOrNull(5), "fc2_experts_bias"),
        optionalShape(call.inOrNull(6), "fc3_experts_weights"), optionalShape(call.inOrNull(7), "fc3_experts_bias"),
        shapeOf(y, "output")};
    MoeProblem p{};
    std::string const problem = moeCheckShapes(moeAttrs(call.params), shapes, p);
    call.check(problem.empty(), problem);
    p.input = reinterpret_cast<void const*>(x.ptr);
    p.router = reinterpret_cast<void const*>(call.in(1).ptr);
    p.fc1 = reinterpret_cast<void const*>(call.in(2).ptr);
    p.fc1Bias = optionalPtr(call.inOrNull(3));
    p.fc2 = reinterpret_cast<void const*>(call.in(4).ptr);
    p.fc2Bias = optionalPtr(call.inOrNull(5));
    p.fc3 = optionalPtr(call.inOrNull(6));
    p.fc3Bias = optionalPtr(call.inOrNull(7));
    p.output = reinterpret_cast<void*>(y.ptr);
    size_t const bytes = moeWorkspaceBytes(p);
    CallScratch const scratch(call, bytes, "moe_workspace_bytes gives");
    checkCuda(launchMoe(x.dtype, p, scratch.get(), bytes, call.stream), "moe");
}

namespace
{

size_t workspaceBytes(int64_t tokens, int64_t hidden, int64_t inter, int64_t experts, int64_t k, int64_t fc1Cols,
    bool fc3)
{
    trtplug::MoeProblem p{};
    p.tokens = tokens;
    p.hidden = hidden;
    p.inter = inter;
    p.experts = experts;
    p.k = static_cast<int32_t>(k);
    p.fc1Cols = fc1Cols;
    p.hasFc3 = fc3;
    return trtplug::moeWorkspaceBytes(p);
}

} // namespace

TRTPLUG_BINDING_HELPERS(moe)
{
    using namespace pybind11::literals;
    m.def("moe_workspace_bytes", &workspaceBytes, "scratch bytes moe needs for these sizes", "tokens"_a, "hidden"_a,
        "inter"_a, "experts"_a, "k"_a, "fc1_cols"_a, "fc3"_a = false);
}
