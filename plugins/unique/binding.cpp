#include "common/op_binding.h"
#include "unique/op_glue.h"
#include "unique/unique.h"

#include <string>

namespace py = pybind11;

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

} // namespace

//! Unique of X (axis INT32_MIN: flattened) into Y, indices, inverse_indices, counts (room for the
//! count each) and its count into the size tensor unique_count. Scratch: `workspace` (a device
//! array of unique_workspace_bytes, as TensorRT hands the plugin), or stream-ordered memory
//! allocated for the call.
TRTPLUG_OP_BINDING(unique)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ya = call.out(0);
    DeviceArray const& ia = call.out(1);
    DeviceArray const& va = call.out(2);
    DeviceArray const& ca = call.out(3);
    DeviceArray const& na = call.out(4);
    call.check(ya.dtype == xa.dtype, "Y must have X's dtype");
    call.check(ia.dtype == DType::kINT64 && va.dtype == DType::kINT64 && ca.dtype == DType::kINT64,
        "indices, inverse_indices and counts must be int64");
    call.check(na.dtype == DType::kINT32 && na.size >= 1, "unique_count must be an int32 array of one element");
    UniqueDims const dims = dimsOf(xa, call.params.axis);
    call.check(va.size == dims.rows, "inverse_indices must have one element per compared slice");
    call.check(ia.size == ca.size && ia.size <= dims.rows && ya.size <= xa.size,
        "indices and counts must have one length, Y no more elements than X");
    size_t const bytes = uniqueWorkspaceBytes(xa.dtype, dims);
    CallScratch const scratch(call, bytes, "unique_workspace_bytes(x, axis) gives");
    void* const scratchPtr = scratch.get();
    checkCuda(launchUnique(xa.dtype, reinterpret_cast<void const*>(xa.ptr), dims, call.params.sorted != 0,
                  reinterpret_cast<void*>(ya.ptr), reinterpret_cast<int64_t*>(ia.ptr),
                  reinterpret_cast<int64_t*>(va.ptr), reinterpret_cast<int64_t*>(ca.ptr),
                  reinterpret_cast<int32_t*>(na.ptr), scratchPtr, bytes, call.stream),
        "unique");
}

TRTPLUG_BINDING_HELPERS(unique)
{
    using namespace pybind11::literals;
    m.def("unique_workspace_bytes", &workspaceBytes, "scratch bytes unique(x, ..., axis) needs", "x"_a, "axis"_a);
}
