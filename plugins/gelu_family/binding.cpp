// The GELU family's bindings: one per member over one body (X, optional bias, Y), plus FastGelu's
// raw-pointer entry point for callers that hold device pointers rather than arrays.
#include "common/elementwise_binding.h"
#include "common/op_binding.h"
#include "gelu_family/members.h"

namespace
{

//! Y = act(X [+ bias]) through the member's launcher; input 1, when the member has it, is the bias.
template <class Params>
void runGeluMember(trtplug::OpCall<Params> const& call)
{
    using namespace trtplug;
    DeviceArray const* bias = call.hasIn(1) ? &call.in(1) : nullptr;
    ElementwiseCall const c = elementwiseCall(call.op.c_str(), call.in(0), call.out(0), bias);
    checkCuda(launchMember(call.params, c.dtype, c.args, call.stream), call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(gelu)
{
    runGeluMember(call);
}

TRTPLUG_OP_BINDING(fast_gelu)
{
    runGeluMember(call);
}

TRTPLUG_OP_BINDING(bias_gelu)
{
    runGeluMember(call);
}

TRTPLUG_OP_BINDING(quick_gelu)
{
    runGeluMember(call);
}

TRTPLUG_BINDING_HELPERS(fast_gelu)
{
    using namespace pybind11::literals;
    m.def(
        "fast_gelu_ptr",
        [](uintptr_t x, uintptr_t y, int64_t n, std::string const& dtype, uintptr_t bias, int64_t biasLen,
            pybind11::handle stream) {
            using namespace trtplug;
            ElementwiseArgs args;
            args.x = reinterpret_cast<void const*>(x);
            args.y = reinterpret_cast<void*>(y);
            args.n = n;
            args.bias = bias ? reinterpret_cast<void const*>(bias) : nullptr;
            args.biasLen = biasLen;
            checkCuda(launchFastGelu(dtypeFromName(dtype), args, toStream(stream)), "fast_gelu_ptr");
        },
        "FastGelu on raw device pointers", "x"_a, "y"_a, "n"_a, "dtype"_a, "bias"_a = 0, "bias_len"_a = 0,
        "stream"_a = pybind11::none());
}
