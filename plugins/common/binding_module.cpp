// trtplug._native: the CUDA launchers exposed to Python, plus the runtime facts `doctor` needs.
#include "common/binding.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace trtplug
{

std::vector<std::pair<std::string, BindingFn>>& bindingRegistry()
{
    static std::vector<std::pair<std::string, BindingFn>> registry;
    return registry;
}

int registerBinding(char const* op, BindingFn fn)
{
    bindingRegistry().emplace_back(op, fn);
    return 0;
}

} // namespace trtplug

static int cudaDeviceCount()
{
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

PYBIND11_MODULE(_native, m)
{
    m.doc() = "trtplug CUDA launchers (the kernels the IPluginV3 plugins run)";
    m.attr("cuda_architectures") = TRTPLUG_CUDA_ARCHS;
    m.def("cuda_device_count", &cudaDeviceCount, "CUDA devices visible to the runtime (0 without driver/GPU)");
    m.def("cuda_runtime_version", [] {
        int v = 0;
        cudaRuntimeGetVersion(&v);
        return v;
    });
    py::list ops;
    for (auto const& [op, bind] : trtplug::bindingRegistry())
    {
        bind(m);
        if (!op.empty()) // helpers register without a name
        {
            ops.append(op);
        }
    }
    m.attr("ops") = ops;
}
