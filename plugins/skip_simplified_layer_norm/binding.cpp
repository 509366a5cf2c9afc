#include "common/skip_norm_binding.h"
#include "skip_simplified_layer_norm/skip_simplified_layer_norm.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(skip_simplified_layer_norm)
{
    m.def(
        "skip_simplified_layer_norm",
        [](py::handle input, py::handle skip, py::handle gamma, py::sequence outputs, py::handle bias,
            float epsilon, py::handle stream) {
            trtplug::skipNormArrays("skip_simplified_layer_norm", trtplug::launchSkipSimplifiedLayerNorm, input,
                skip, gamma, outputs, py::none(), bias, epsilon, stream);
        },
        "RMSNorm(input + skip + bias) * gamma into outputs [output, mean (0)?, inv_std_var?, sum?]", "input"_a,
        "skip"_a, "gamma"_a, "outputs"_a, "bias"_a = py::none(), "epsilon"_a = 1e-12F, "stream"_a = py::none());
}
