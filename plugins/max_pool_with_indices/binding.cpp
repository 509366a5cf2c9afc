#include "common/binding.h"
#include "max_pool_with_indices/max_pool_with_indices.h"

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! Output dims from y's shape; `begin` the leading pads (auto_pad resolved by the caller).
void maxPoolArrays(py::handle x, py::handle y, py::handle indices, std::vector<int32_t> const& kernel,
    std::vector<int32_t> const& strides, std::vector<int32_t> const& dilations, std::vector<int32_t> const& begin,
    int storageOrder, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    DeviceArray const ia = toDeviceArray(indices, "indices", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16, "max_pool_with_indices: x must be float");
    require(ya.dtype == xa.dtype && ia.dtype == DType::kINT64 && ia.shape == ya.shape,
        "max_pool_with_indices: y must have x's dtype, indices be int64 with y's shape");
    size_t const n = kernel.size();
    require(n >= 1 && n <= static_cast<size_t>(kMaxPoolMaxSpatial) && xa.shape.size() == n + 2
            && ya.shape.size() == n + 2 && strides.size() == n && dilations.size() == n && begin.size() == n,
        "max_pool_with_indices: x, y are (N, C, spatial...) with 1..3 spatial axes, one kernel/stride/dilation/pad each");
    require(ya.shape[0] == xa.shape[0] && ya.shape[1] == xa.shape[1], "max_pool_with_indices: y must have x's N, C");
    PoolGeometry g;
    g.spatial = static_cast<int32_t>(n);
    g.columnMajor = storageOrder == 1;
    for (size_t d = 0; d < n; ++d)
    {
        g.in[d] = xa.shape[2 + d];
        g.out[d] = ya.shape[2 + d];
        g.kernel[d] = kernel[d];
        g.stride[d] = strides[d];
        g.dilation[d] = dilations[d];
        g.begin[d] = begin[d];
    }
    checkCuda(launchMaxPoolWithIndices(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr),
                  reinterpret_cast<int64_t*>(ia.ptr), xa.shape[0] * xa.shape[1], g, toStream(stream)),
        "max_pool_with_indices");
}

} // namespace

TRTPLUG_BINDING(max_pool_with_indices)
{
    m.def("max_pool_with_indices", &maxPoolArrays, "MaxPool with Indices of x into y, indices (CUDA arrays)", "x"_a,
        "y"_a, "indices"_a, "kernel"_a, "strides"_a, "dilations"_a, "begin"_a, "storage_order"_a = 0,
        "stream"_a = py::none());
}
