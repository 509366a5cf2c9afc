// CumSum / CumProd bindings: one per member over one body (x, axis -> y).
#include "common/op_binding.h"
#include "cumulative/cumulative.h"
#include "cumulative/op_glue.h"

namespace
{

bool isScanned(trtplug::DType t)
{
    using trtplug::DType;
    return t == DType::kFLOAT32 || t == DType::kFLOAT16 || t == DType::kBFLOAT16 || t == DType::kINT32
        || t == DType::kINT64;
}

//! y = scan(x) along the axis held by the 0-D device array `axis` (read by the kernel, as the
//! plugin receives it): an out-of-range axis gives NaN (floats) or the type's minimum (integers).
//! Scratch (a 1-D x): `workspace` (a device array of cumulative_workspace_bytes, as TensorRT hands
//! the plugin), or stream-ordered memory allocated for the call.
template <class Params>
void runScan(trtplug::OpCall<Params> const& call, trtplug::ScanOp op)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& axis = call.in(1);
    DeviceArray const& y = call.out(0);
    call.check(isScanned(x.dtype), std::string("x must be float32, float16, bfloat16, int32 or int64, got ")
            + dtypeName(x.dtype));
    call.check(!x.shape.empty(), "x must have rank >= 1");
    call.check((axis.dtype == DType::kINT32 || axis.dtype == DType::kINT64) && axis.size == 1,
        "axis must be a 0-D int32 or int64 tensor");
    call.check(y.dtype == x.dtype && y.shape == x.shape, "y must have x's dtype and shape");
    ScanOptions const options{op, call.params.exclusive != 0, call.params.reverse != 0};
    TensorShape const shape = shapeOf(x, "x");
    size_t const bytes = cumulativeWorkspaceBytes(x.dtype, shape);
    CallScratch const scratch(call, bytes, "cumulative_workspace_bytes gives");
    void* const scratchPtr = scratch.get();
    checkCuda(launchCumulative(options, x.dtype, reinterpret_cast<void const*>(x.ptr), shape,
                  reinterpret_cast<void const*>(axis.ptr), axis.dtype, reinterpret_cast<void*>(y.ptr), scratchPtr,
                  bytes, call.stream),
        call.op.c_str());
}

size_t workspaceBytes(std::string const& dtype, std::vector<int64_t> const& shape)
{
    trtplug::TensorShape s;
    trtplug::require(trtplug::TensorShape::from(shape, s), "cumulative_workspace_bytes: rank above 8");
    return trtplug::cumulativeWorkspaceBytes(trtplug::dtypeFromName(dtype), s);
}

} // namespace

TRTPLUG_OP_BINDING(cum_sum)
{
    runScan(call, trtplug::ScanOp::kSum);
}

TRTPLUG_OP_BINDING(cum_prod)
{
    runScan(call, trtplug::ScanOp::kProd);
}

TRTPLUG_BINDING_HELPERS(cumulative)
{
    using namespace pybind11::literals;
    m.def("cumulative_workspace_bytes", &workspaceBytes,
        "scratch bytes cum_sum / cum_prod need for x of this dtype and shape (0: not 1-D, or empty)", "dtype"_a,
        "shape"_a);
}
