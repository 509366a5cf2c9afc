// ScatterND launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"
#include "common/scatter_reduce.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

constexpr int32_t kScatterNDMaxRank = 8;

//! out = data, then for each of `slices` index tuples indices[j, 0:k] (k <= dataRank): the slice
//! out[indices[j]] (dims dataDims[k:]) (reduction)= updates[j]. Negative indices count from the
//! end; tuples with an index outside [-dim, dim) are skipped. float32, float16, bfloat16, int32 or int64;
//! `data` may equal `out`.
cudaError_t launchScatterND(DType dtype, void const* data, int64_t const* indices, void const* updates, void* out,
    int32_t dataRank, int64_t const* dataDims, int64_t slices, int32_t k, ScatterReduction reduction,
    cudaStream_t stream) noexcept;

} // namespace trtplug
