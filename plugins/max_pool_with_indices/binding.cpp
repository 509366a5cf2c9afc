#include "common/op_binding.h"
#include "max_pool_with_indices/pool_params.h"

//! MaxPool of X into Y and Indices (flat positions in X), the geometry resolved from the
//! attributes as the plugin resolves it (auto_pad, ceil_mode, empty lists); Y's spatial lengths
//! must be the ones ONNX MaxPool gives.
TRTPLUG_OP_BINDING(max_pool_with_indices)
{
    using namespace trtplug;
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ya = call.out(0);
    DeviceArray const& ia = call.out(1);
    call.check(isFloatDType(xa.dtype), "X must be float32, float16 or bfloat16");
    call.check(ya.dtype == xa.dtype && ia.dtype == DType::kINT64 && ia.shape == ya.shape,
        "Y must have X's dtype, Indices be int64 with Y's shape");
    int32_t const n = maxpool::spatial(call.params);
    call.check(xa.shape.size() == static_cast<size_t>(n) + 2 && ya.shape.size() == xa.shape.size(),
        "X and Y must be (N, C, spatial...) with one spatial axis per kernel_shape value");
    call.check(ya.shape[0] == xa.shape[0] && ya.shape[1] == xa.shape[1], "Y must have X's N and C");
    PoolGeometry const g = maxpool::geometry(call.params, xa.shape.data() + 2);
    for (int32_t d = 0; d < n; ++d)
    {
        call.check(g.out[d] == ya.shape[2 + d], "Y's spatial axis " + std::to_string(d) + " must have length "
                + std::to_string(g.out[d]) + ", got " + std::to_string(ya.shape[2 + d]));
    }
    checkCuda(launchMaxPoolWithIndices(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr),
                  reinterpret_cast<int64_t*>(ia.ptr), xa.shape[0] * xa.shape[1], g, call.stream),
        "max_pool_with_indices");
}
