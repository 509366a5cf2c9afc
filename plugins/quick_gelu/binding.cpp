#include "common/elementwise_binding.h"
#include "quick_gelu/quick_gelu.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(quick_gelu)
{
    m.def(
        "quick_gelu",
        [](py::handle x, py::handle y, float alpha, py::handle stream) {
            using namespace trtplug;
            ElementwiseCall const call = elementwiseCall("quick_gelu", x, y, py::none(), py::none());
            checkCuda(launchQuickGelu(call.dtype, call.args, alpha, toStream(stream)), "quick_gelu");
        },
        "x * sigmoid(alpha x) into y (CUDA arrays)", "x"_a, "y"_a, "alpha"_a = 1.702f, "stream"_a = py::none());
}
