#include "common/skip_norm_binding.h"
#include "skip_layer_norm/skip_layer_norm.h"

namespace py = pybind11;
using namespace pybind11::literals;

TRTPLUG_BINDING(skip_layer_norm)
{
    m.def(
        "skip_layer_norm",
        [](py::handle input, py::handle skip, py::handle gamma, py::sequence outputs, py::handle beta,
            py::handle bias, float epsilon, py::handle stream) {
            trtplug::skipNormArrays("skip_layer_norm", trtplug::launchSkipLayerNorm, input, skip, gamma, outputs,
                beta, bias, epsilon, stream);
        },
        "LayerNorm(input + skip + bias) * gamma + beta into outputs [output, mean?, inv_std_var?, sum?]",
        "input"_a, "skip"_a, "gamma"_a, "outputs"_a, "beta"_a = py::none(), "bias"_a = py::none(),
        "epsilon"_a = 1e-12F, "stream"_a = py::none());
}
