#include "common/binding.h"
#include "fast_gelu/fast_gelu.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void fastGeluArrays(py::handle x, py::handle y, py::handle bias, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16,
        std::string("fast_gelu: x must be float32 or float16, got ") + dtypeName(xa.dtype));
    require(ya.dtype == xa.dtype && ya.shape == xa.shape, "fast_gelu: y must match x in shape and dtype");
    DeviceArray ba;
    if (!bias.is_none())
    {
        ba = toDeviceArray(bias, "bias", false);
        require(ba.dtype == xa.dtype, "fast_gelu: bias must have x's dtype");
        require(ba.shape.size() == 1 && ba.size == xa.lastDim() && !xa.shape.empty(),
            "fast_gelu: bias must be 1-D with the length of x's last axis");
    }
    auto const* b = bias.is_none() || ba.size == 0 ? nullptr : reinterpret_cast<void const*>(ba.ptr);
    checkCuda(launchFastGelu(xa.dtype, reinterpret_cast<void const*>(xa.ptr), b, reinterpret_cast<void*>(ya.ptr),
                  xa.size, ba.size, toStream(stream)),
        "fast_gelu");
}

void fastGeluPointers(uintptr_t x, uintptr_t y, int64_t n, std::string const& dtype, uintptr_t bias, int64_t biasLen,
    py::handle stream)
{
    using namespace trtplug;
    checkCuda(launchFastGelu(dtypeFromName(dtype), reinterpret_cast<void const*>(x),
                  bias ? reinterpret_cast<void const*>(bias) : nullptr, reinterpret_cast<void*>(y), n, biasLen,
                  toStream(stream)),
        "fast_gelu_ptr");
}

} // namespace

TRTPLUG_BINDING(fast_gelu)
{
    m.def("fast_gelu", &fastGeluArrays, "FastGelu(x + bias) into y (CUDA arrays; bias optional)", "x"_a, "y"_a,
        "bias"_a = py::none(), "stream"_a = py::none());
    m.def("fast_gelu_ptr", &fastGeluPointers, "FastGelu on raw device pointers", "x"_a, "y"_a, "n"_a, "dtype"_a,
        "bias"_a = 0, "bias_len"_a = 0, "stream"_a = py::none());
}
