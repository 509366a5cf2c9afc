#include "bitwise_not/bitwise_not.h"
#include "common/int_elementwise_binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(bitwise_not)
{
    m.def(
        "bitwise_not",
        [](py::handle x, py::handle y, py::handle stream) {
            trtplug::runIntElementwise(trtplug::launchBitwiseNot, "bitwise_not", x, py::none(), y, stream);
        },
        "y = ~x on CUDA integer arrays", "x"_a, "y"_a, "stream"_a = py::none());
}
