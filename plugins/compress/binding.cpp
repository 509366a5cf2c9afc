#include "common/op_binding.h"
#include "common/stream_scratch.h"
#include "compress/compress.h"
#include "compress/op_glue.h"

//! Compress of input along `axis` (absent: flattened) into output, which needs room for the
//! selected slices; their number goes to the size tensor output_count (int32, one element).
TRTPLUG_OP_BINDING(compress)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ca = call.in(1);
    DeviceArray const& ya = call.out(0);
    DeviceArray const& na = call.out(1);
    call.check(ya.dtype == xa.dtype, "output must have input's dtype");
    call.check(ca.dtype == DType::kBOOL && ca.shape.size() == 1, "condition must be a 1-D bool array");
    call.check(na.dtype == DType::kINT32 && na.size >= 1, "output_count must be an int32 array of one element");
    auto const rank = static_cast<int32_t>(xa.shape.size());
    int64_t axis = 0;
    call.check(compressAxis(call.params.axis, rank, axis), "axis out of range for input's rank");
    CompressShape const shape = compressShapeOf(rank, xa.shape.data(), axis, ca.shape[0]);
    size_t const bytes = compressWorkspaceBytes(shape);
    StreamScratch scratch(bytes, call.stream);
    checkCuda(launchCompress(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<bool const*>(ca.ptr),
                  shape, reinterpret_cast<void*>(ya.ptr), reinterpret_cast<int32_t*>(na.ptr), scratch.get(), bytes,
                  call.stream),
        "compress");
}
