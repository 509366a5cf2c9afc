#include "common/binding.h"
#include "common/stream_scratch.h"
#include "unique/unique.h"

#include <string>

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! X's compared units for `axis`, checked.
trtplug::UniqueDims dimsOf(trtplug::DeviceArray const& xa, int32_t axis)
{
    using namespace trtplug;
    require(xa.shape.size() <= 8, "unique: x has rank above 8");
    UniqueDims dims{};
    require(uniqueDims(xa.shape.data(), static_cast<int32_t>(xa.shape.size()), axis, dims),
        "unique: axis out of range for x's rank");
    require(dims.rows <= kUniqueMaxRows, "unique: more than 2**31 - 2 elements (or slices) to compare");
    return dims;
}

size_t workspaceBytes(py::handle x, int32_t axis)
{
    trtplug::DeviceArray const xa = trtplug::toDeviceArray(x, "x", false);
    return trtplug::uniqueWorkspaceBytes(xa.dtype, dimsOf(xa, axis));
}

//! Unique of x (axis INT32_MIN: flattened) into y, indices, inverse, counts (room for the
//! count each) and its count into `count` (a device int32 array of at least one element).
//! Scratch: `workspace` (a device array of unique_workspace_bytes, as TensorRT hands the
//! plugin), or stream-ordered memory allocated for the call.
void uniqueArrays(py::handle x, py::handle y, py::handle indices, py::handle inverse, py::handle counts,
    py::handle count, int32_t axis, bool sorted, py::handle stream, py::handle workspace)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    DeviceArray const ia = toDeviceArray(indices, "indices", true);
    DeviceArray const va = toDeviceArray(inverse, "inverse_indices", true);
    DeviceArray const ca = toDeviceArray(counts, "counts", true);
    DeviceArray const na = toDeviceArray(count, "count", true);
    require(ya.dtype == xa.dtype, "unique: y must have x's dtype");
    require(ia.dtype == DType::kINT64 && va.dtype == DType::kINT64 && ca.dtype == DType::kINT64,
        "unique: indices, inverse_indices and counts must be int64");
    require(na.dtype == DType::kINT32 && na.size >= 1, "unique: count must be an int32 array of one element");
    UniqueDims const dims = dimsOf(xa, axis);
    require(va.size == dims.rows, "unique: inverse_indices must have one element per compared slice");
    require(ia.size == ca.size && ia.size <= dims.rows && ya.size <= xa.size,
        "unique: indices and counts must have one length, y no more elements than x");
    cudaStream_t const s = toStream(stream);
    size_t const bytes = uniqueWorkspaceBytes(xa.dtype, dims);
    StreamScratch const scratch(workspace.is_none() ? bytes : 0, s); // none when the caller gives it
    void* scratchPtr = scratch.get();
    if (!workspace.is_none())
    {
        DeviceArray const wa = toDeviceArray(workspace, "workspace", true);
        require(static_cast<size_t>(wa.size) * dtypeSize(wa.dtype) >= bytes,
            "unique: workspace smaller than unique_workspace_bytes(x, axis) = " + std::to_string(bytes));
        scratchPtr = reinterpret_cast<void*>(wa.ptr);
    }
    checkCuda(launchUnique(xa.dtype, reinterpret_cast<void const*>(xa.ptr), dims, sorted,
                  reinterpret_cast<void*>(ya.ptr), reinterpret_cast<int64_t*>(ia.ptr),
                  reinterpret_cast<int64_t*>(va.ptr), reinterpret_cast<int64_t*>(ca.ptr),
                  reinterpret_cast<int32_t*>(na.ptr), scratchPtr, bytes, s),
        "unique");
}

} // namespace

TRTPLUG_BINDING(unique)
{
    m.def("unique", &uniqueArrays,
        "ONNX Unique of x (axis INT32_MIN: flattened) into y, indices, inverse_indices, counts; the number of "
        "unique values (slices) into count (CUDA arrays)",
        "x"_a, "y"_a, "indices"_a, "inverse_indices"_a, "counts"_a, "count"_a, "axis"_a, "sorted"_a = true,
        "stream"_a = py::none(), "workspace"_a = py::none());
    m.def("unique_workspace_bytes", &workspaceBytes, "scratch bytes unique(x, ..., axis) needs", "x"_a, "axis"_a);
}
