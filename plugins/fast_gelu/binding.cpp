#include "common/elementwise_binding.h"
#include "fast_gelu/fast_gelu.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void fastGeluArrays(py::handle x, py::handle y, py::handle bias, py::handle stream)
{
    using namespace trtplug;
    ElementwiseCall const call = elementwiseCall("fast_gelu", x, y, bias, py::none());
    checkCuda(launchFastGelu(call.dtype, call.args, toStream(stream)), "fast_gelu");
}

void fastGeluPointers(uintptr_t x, uintptr_t y, int64_t n, std::string const& dtype, uintptr_t bias, int64_t biasLen,
    py::handle stream)
{
    using namespace trtplug;
    ElementwiseArgs args;
    args.x = reinterpret_cast<void const*>(x);
    args.y = reinterpret_cast<void*>(y);
    args.n = n;
    args.bias = bias ? reinterpret_cast<void const*>(bias) : nullptr;
    args.biasLen = biasLen;
    checkCuda(launchFastGelu(dtypeFromName(dtype), args, toStream(stream)), "fast_gelu_ptr");
}

} // namespace

TRTPLUG_BINDING(fast_gelu)
{
    m.def("fast_gelu", &fastGeluArrays, "FastGelu(x + bias) into y (CUDA arrays; bias optional)", "x"_a, "y"_a,
        "bias"_a = py::none(), "stream"_a = py::none());
    m.def("fast_gelu_ptr", &fastGeluPointers, "FastGelu on raw device pointers", "x"_a, "y"_a, "n"_a, "dtype"_a,
        "bias"_a = 0, "bias_len"_a = 0, "stream"_a = py::none());
}
