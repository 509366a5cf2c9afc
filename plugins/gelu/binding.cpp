#include "common/elementwise_binding.h"
#include "gelu/gelu.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(gelu)
{
    m.def(
        "gelu",
        [](py::handle x, py::handle y, py::handle stream) {
            using namespace trtplug;
            ElementwiseCall const call = elementwiseCall("gelu", x, y, py::none(), py::none());
            checkCuda(launchGelu(call.dtype, call.args, toStream(stream)), "gelu");
        },
        "exact (erf) GELU of x into y (CUDA arrays)", "x"_a, "y"_a, "stream"_a = py::none());
}
