#include "center_crop_pad/center_crop_pad.h"
#include "common/binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! Target dims are y's shape; x and y must have one rank and dtype.
void centerCropPadArrays(py::handle x, py::handle y, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(ya.dtype == xa.dtype, "center_crop_pad: y must have x's dtype");
    require(xa.shape.size() == ya.shape.size(), "center_crop_pad: y must have x's rank");
    require(xa.shape.size() <= static_cast<size_t>(kCenterCropPadMaxRank), "center_crop_pad: rank above 8");
    checkCuda(launchCenterCropPad(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr),
                  static_cast<int32_t>(xa.shape.size()), xa.shape.data(), ya.shape.data(), toStream(stream)),
        "center_crop_pad");
}

} // namespace

TRTPLUG_BINDING(center_crop_pad)
{
    m.def("center_crop_pad", &centerCropPadArrays, "centred crop/zero pad of x to y's shape (CUDA arrays)", "x"_a,
        "y"_a, "stream"_a = py::none());
}
