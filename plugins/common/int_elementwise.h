// Integer elementwise launchers (bitwise ops, shifts): one signature for every op so that the
// binding and the IPluginV3 adapter are shared (int_elementwise_binding.h, int_elementwise_plugin.h).
// TensorRT-free; the kernel template lives in int_elementwise.cuh.
#pragma once

#include "common/broadcast.h"
#include "common/dtype.h"

#include <cuda_runtime_api.h>

namespace trtplug
{

//! y = op(a, b) over the broadcast `shape` (b null for unary ops); int32, int64, uint8 or int8.
using IntElementwiseFn = cudaError_t (*)(
    DType dtype, void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept;

inline bool isIntElementwiseType(DType t) noexcept
{
    return t == DType::kINT32 || t == DType::kINT64 || t == DType::kUINT8 || t == DType::kINT8;
}

} // namespace trtplug
