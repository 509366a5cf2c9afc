#include "bias_gelu/bias_gelu.h"
#include "common/elementwise_binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(bias_gelu)
{
    m.def(
        "bias_gelu",
        [](py::handle x, py::handle y, py::handle bias, py::handle stream) {
            using namespace trtplug;
            ElementwiseCall const call = elementwiseCall("bias_gelu", x, y, bias, py::none());
            checkCuda(launchBiasGelu(call.dtype, call.args, toStream(stream)), "bias_gelu");
        },
        "exact (erf) GELU of x + bias into y (CUDA arrays; bias along the last axis)", "x"_a, "y"_a, "bias"_a,
        "stream"_a = py::none());
}
