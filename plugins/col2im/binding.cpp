#include "col2im/col2im.h"
#include "common/binding.h"

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! image_shape is y's spatial dims; block_shape a device int64 array, read by the kernel only
//! (as the plugin receives it): values that do not fit x's shape give a NaN output.
void col2imArrays(py::handle x, py::handle blockShape, py::handle y, std::vector<int64_t> const& dilations,
    std::vector<int64_t> const& pads, std::vector<int64_t> const& strides, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ba = toDeviceArray(blockShape, "block_shape", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16, "col2im: x must be float32 or float16");
    require(ya.dtype == xa.dtype, "col2im: y must have x's dtype");
    require(xa.shape.size() == 3, "col2im: x must be (N, C * prod(block_shape), L)");
    require(ya.shape.size() >= 3 && ya.shape[0] == xa.shape[0], "col2im: y must be (N, C, image...) with x's N");
    Col2ImGeometry g{};
    g.spatial = static_cast<int32_t>(ya.shape.size() - 2);
    require(ba.dtype == DType::kINT64 && ba.shape.size() == 1 && ba.shape[0] == g.spatial,
        "col2im: block_shape must be int64 with one value per spatial axis of y");
    std::string const problem = setCol2ImAttributes(g, dilations, pads, strides);
    require(problem.empty(), "col2im: " + problem);
    g.batch = xa.shape[0];
    g.channels = ya.shape[1];
    require(g.channels > 0 ? xa.shape[1] > 0 && xa.shape[1] % g.channels == 0 : xa.shape[1] == 0,
        "col2im: x's dim 1 must be a multiple of y's channels");
    g.kernel = g.channels > 0 ? xa.shape[1] / g.channels : 0;
    g.columns = xa.shape[2];
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        g.image[d] = ya.shape[2 + d];
    }
    checkCuda(launchCol2Im(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<int64_t const*>(ba.ptr),
                  reinterpret_cast<void*>(ya.ptr), g, toStream(stream)),
        "col2im");
}

} // namespace

TRTPLUG_BINDING(col2im)
{
    m.def("col2im", &col2imArrays, "Col2Im of x into y with block_shape read from device memory (CUDA arrays)", "x"_a,
        "block_shape"_a, "y"_a, "dilations"_a = std::vector<int64_t>{}, "pads"_a = std::vector<int64_t>{},
        "strides"_a = std::vector<int64_t>{}, "stream"_a = py::none());
}
