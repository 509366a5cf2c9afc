#include "common/op_binding.h"
#include "non_zero/non_zero.h"
#include "non_zero/op_glue.h"

//! NonZero of X into Y (int64, room for rank(X) * N coordinates, written packed [rank, N]); N goes
//! to the size tensor Y_count (int32, one element). Scratch: `workspace` (a device array of at least
//! non_zero_workspace_bytes(X.size) bytes, as TensorRT hands the plugin), or stream-ordered memory.
TRTPLUG_OP_BINDING(non_zero)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ya = call.out(0);
    DeviceArray const& na = call.out(1);
    TensorShape shape{};
    call.check(TensorShape::from(xa.shape, shape), "X has rank above 8");
    call.check(xa.size <= kNonZeroMaxElements, "X has more than 2**31 - 1 elements");
    call.check(ya.dtype == DType::kINT64, std::string("Y must be int64, got ") + dtypeName(ya.dtype));
    call.check(na.dtype == DType::kINT32 && na.size >= 1, "Y_count must be an int32 array of one element");
    size_t const bytes = nonZeroWorkspaceBytes(xa.size);
    CallScratch const scratch(call, bytes, "non_zero_workspace_bytes(x.size) gives");
    checkCuda(launchNonZero(xa.dtype, reinterpret_cast<void const*>(xa.ptr), shape, reinterpret_cast<int64_t*>(ya.ptr),
                  reinterpret_cast<int32_t*>(na.ptr), scratch.get(), bytes, call.stream),
        "non_zero");
}

TRTPLUG_BINDING_HELPERS(non_zero)
{
    using namespace pybind11::literals;
    m.def("non_zero_workspace_bytes", &trtplug::nonZeroWorkspaceBytes, "scratch bytes non_zero needs for X's size",
        "elements"_a);
}
