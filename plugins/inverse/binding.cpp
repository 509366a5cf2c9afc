#include "common/batched_matrix_binding.h"
#include "inverse/inverse.h"

using namespace pybind11::literals;

TRTPLUG_BINDING(inverse)
{
    m.def(
        "inverse",
        [](pybind11::handle x, pybind11::handle y, pybind11::handle stream) {
            trtplug::runBatchedMatrix(trtplug::launchInverse, "inverse", false, x, y, stream);
        },
        "Inverse of a batch of square matrices x (..., M, M) into y (CUDA arrays)", "x"_a, "y"_a,
        "stream"_a = pybind11::none());
}
