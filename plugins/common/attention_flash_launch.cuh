// The launchers of the register-resident prefills (attention_flash.cuh for fp16/bf16,
// attention_flash32.cuh for float32 on 3xTF32): grid, head size and the instance with or without
// mask and bias tensors. Included only from attention_core.cu.
#pragma once

#include "common/attention_cudnn.h"
#include "common/attention_decode_launch.cuh"
#include "common/attention_flash.cuh"
#include "common/attention_flash32.cuh"
#include "common/launch.cuh"

#include <cstdlib>
#include <cstring>

namespace trtplug
{
namespace attention
{

inline dim3 flashGrid(AttentionProblem const& p) noexcept
{
    return dim3(static_cast<unsigned>((p.qLen + kFlashRows - 1) / kFlashRows),
        static_cast<unsigned>(p.qHeads), static_cast<unsigned>(p.batch));
}

template <typename T, int kD>
cudaError_t launchFlashDim(AttentionProblem const& p, cudaStream_t stream) noexcept
{
    auto* const kernel = hasScoreTensors(p) ? attentionFlashKernel<T, kD, true> : attentionFlashKernel<T, kD, false>;
    return launchLargeShared(kernel, flashGrid(p), kFlashThreads, flashSharedBytes<kD>(), stream, p);
}

template <typename T>
cudaError_t launchFlash(AttentionProblem const& p, cudaStream_t stream) noexcept
{
    return p.headDim == 64 ? launchFlashDim<T, 64>(p, stream) : launchFlashDim<T, 128>(p, stream);
}

//! Float32 prefills where flashPrefillApplies take the 3xTF32 tensor-core kernel
//! (attention_flash32.cuh); TRTPLUG_ATTENTION_FP32=cuda-cores (read per launch) keeps them on the
//! CUDA-core tile kernel, for comparison and tests.
inline bool fp32OnTensorCores() noexcept
{
    char const* choice = std::getenv("TRTPLUG_ATTENTION_FP32");
    return choice == nullptr || std::strcmp(choice, "cuda-cores") != 0;
}

template <int kD>
cudaError_t launchFlash32Dim(AttentionProblem const& p, cudaStream_t stream) noexcept
{
    auto* const kernel = hasScoreTensors(p) ? attentionFlash32Kernel<kD, true> : attentionFlash32Kernel<kD, false>;
    return launchLargeShared(kernel, flashGrid(p), kFlashThreads, flash32SharedBytes<kD>(), stream, p);
}

inline cudaError_t launchFlash32(AttentionProblem const& p, cudaStream_t stream) noexcept
{
    noteLastPrefillBackend(3);
    return p.headDim == 64 ? launchFlash32Dim<64>(p, stream) : launchFlash32Dim<128>(p, stream);
}

} // namespace attention
} // namespace trtplug
