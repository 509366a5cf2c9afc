#include "bit_shift/bit_shift.h"
#include "common/int_elementwise_binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(bit_shift)
{
    m.def(
        "bit_shift",
        [](py::handle x, py::handle y, py::handle z, std::string const& direction, py::handle stream) {
            trtplug::require(direction == "LEFT" || direction == "RIGHT",
                "bit_shift: direction must be 'LEFT' or 'RIGHT', got '" + direction + "'");
            auto const fn = direction == "LEFT" ? trtplug::launchBitShiftLeft : trtplug::launchBitShiftRight;
            trtplug::runIntElementwise(fn, "bit_shift", x, y, z, stream);
        },
        "z = x << y or x >> y on CUDA integer arrays with NumPy broadcasting", "x"_a, "y"_a, "z"_a, "direction"_a,
        "stream"_a = py::none());
}
