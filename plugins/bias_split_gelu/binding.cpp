#include "bias_split_gelu/bias_split_gelu.h"
#include "common/binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void biasSplitGeluArrays(py::handle x, py::handle y, py::handle bias, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    DeviceArray const ba = toDeviceArray(bias, "bias", false);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16,
        std::string("bias_split_gelu: x must be float32 or float16, got ") + dtypeName(xa.dtype));
    require(!xa.shape.empty() && xa.lastDim() % 2 == 0, "bias_split_gelu: x's last axis must have an even length");
    std::vector<int64_t> half = xa.shape;
    half.back() /= 2;
    require(ya.dtype == xa.dtype && ya.shape == half,
        "bias_split_gelu: y must have x's dtype and x's shape with the last axis halved");
    require(ba.dtype == xa.dtype && ba.shape.size() == 1 && ba.size == xa.lastDim(),
        "bias_split_gelu: bias must be 1-D with x's dtype and the length of x's last axis");
    int64_t const width = xa.lastDim();
    int64_t const rows = width == 0 ? 0 : xa.size / width;
    checkCuda(launchBiasSplitGelu(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void const*>(ba.ptr),
                  reinterpret_cast<void*>(ya.ptr), rows, width, toStream(stream)),
        "bias_split_gelu");
}

} // namespace

TRTPLUG_BINDING(bias_split_gelu)
{
    m.def("bias_split_gelu", &biasSplitGeluArrays,
        "V = x + bias; y = V[..., :D/2] * gelu(V[..., D/2:]) (CUDA arrays; exact GELU)", "x"_a, "y"_a, "bias"_a,
        "stream"_a = py::none());
}
