#include "common/batched_matrix_binding.h"
#include "det/det.h"

using namespace pybind11::literals;

TRTPLUG_BINDING(det)
{
    m.def(
        "det",
        [](pybind11::handle x, pybind11::handle y, pybind11::handle stream) {
            trtplug::runBatchedMatrix(trtplug::launchDet, "det", true, x, y, stream);
        },
        "Det of a batch of square matrices x (..., M, M) into y (CUDA arrays)", "x"_a, "y"_a,
        "stream"_a = pybind11::none());
}
