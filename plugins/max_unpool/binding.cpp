#include "common/op_binding.h"
#include "common/stream_scratch.h"
#include "max_unpool/unpool_params.h"

//! MaxUnpool of X at flat indices I into Y, whose spatial lengths are the output's (the
//! output_shape input, or the unpooled lengths); the unpooled lengths come from the attributes
//! as the plugin computes them.
TRTPLUG_OP_BINDING(max_unpool)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ia = call.in(1);
    DeviceArray const& ya = call.out(0);
    call.check(isFloatDType(xa.dtype), "X must be float32, float16 or bfloat16");
    call.check(ia.dtype == DType::kINT64 && ia.shape == xa.shape, "I must be int64 with X's shape");
    call.check(ya.dtype == xa.dtype, "Y must have X's dtype");
    int32_t const spatial = maxunpool::spatial(call.params);
    call.check(xa.shape.size() == static_cast<size_t>(spatial) + 2 && ya.shape.size() == xa.shape.size(),
        "X and Y must be (N, C, spatial...) with one spatial axis per kernel_shape value");
    call.check(ya.shape[0] == xa.shape[0] && ya.shape[1] == xa.shape[1], "Y must have X's N and C");
    int64_t inferred[kMaxUnpoolMaxSpatial];
    for (int32_t d = 0; d < spatial; ++d)
    {
        inferred[d] = maxunpool::inferred(call.params, d, xa.shape[2 + d]);
        call.check(ya.shape[2 + d] >= inferred[d], "Y must not be smaller than the unpooled shape");
    }
    StreamScratch const workspace(kMaxUnpoolWorkspaceBytes, call.stream); // as a TensorRT workspace would be
    checkCuda(launchMaxUnpool(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<int64_t const*>(ia.ptr),
                  reinterpret_cast<void*>(ya.ptr), xa.size, xa.shape[0] * xa.shape[1], spatial, xa.shape.data() + 2,
                  inferred, ya.shape.data() + 2, workspace.get(), call.stream),
        "max_unpool");
}
