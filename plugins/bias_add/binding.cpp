#include "bias_add/bias_add.h"
#include "common/elementwise_binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(bias_add)
{
    m.def(
        "bias_add",
        [](py::handle x, py::handle y, py::handle bias, py::handle skip, py::handle stream) {
            using namespace trtplug;
            ElementwiseCall const call = elementwiseCall("bias_add", x, y, bias, skip);
            checkCuda(launchBiasAdd(call.dtype, call.args, toStream(stream)), "bias_add");
        },
        "x + bias + skip into y (CUDA arrays; bias along the last axis, skip x's shape)", "x"_a, "y"_a, "bias"_a,
        "skip"_a, "stream"_a = py::none());
}
