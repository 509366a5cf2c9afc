#include "common/binding.h"
#include "common/stream_scratch.h"
#include "compress/compress.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! Compress x along `axis` (INT32_MIN: flattened) into y, which needs room for the selected
//! elements; count: a device int32 array of at least one element receiving their number.
void compressArrays(py::handle x, py::handle condition, py::handle y, py::handle count, int64_t axis, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ca = toDeviceArray(condition, "condition", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    DeviceArray const na = toDeviceArray(count, "count", true);
    require(ya.dtype == xa.dtype, "compress: y must have x's dtype");
    require(ca.dtype == DType::kBOOL && ca.shape.size() == 1, "compress: condition must be a 1-D bool array");
    require(na.dtype == DType::kINT32 && na.size >= 1, "compress: count must be an int32 array of one element");
    auto const rank = static_cast<int64_t>(xa.shape.size());
    if (axis != kAxisAbsent)
    {
        require(axis >= -rank && axis < rank, "compress: axis out of range for x's rank");
        axis = axis < 0 ? axis + rank : axis;
    }
    CompressShape const shape = compressShapeOf(static_cast<int32_t>(rank), xa.shape.data(), axis, ca.shape[0]);
    cudaStream_t const s = toStream(stream);
    size_t const bytes = compressWorkspaceBytes(shape);
    StreamScratch scratch(bytes, s);
    checkCuda(launchCompress(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<bool const*>(ca.ptr),
                  shape, reinterpret_cast<void*>(ya.ptr), reinterpret_cast<int32_t*>(na.ptr), scratch.get(), bytes, s),
        "compress");
}

} // namespace

TRTPLUG_BINDING(compress)
{
    m.def("compress", &compressArrays,
        "the slices of x along axis (INT32_MIN: flattened) where condition is true, packed into y; their number "
        "into count (CUDA arrays)",
        "x"_a, "condition"_a, "y"_a, "count"_a, "axis"_a, "stream"_a = py::none());
}
