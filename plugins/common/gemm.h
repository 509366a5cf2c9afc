// cuBLAS behind a plain launcher-style interface (no cuBLAS or TensorRT types), shared by the ops
// that end in a dense GEMM (MatMulNBits' large-M path; later others). Built with cuBLAS when CMake
// finds CUDA::cublas (TRTPLUG_HAVE_CUBLAS); otherwise gemmAvailable() is false and the calls return
// cudaErrorNotSupported, so callers keep a fallback. Handles: one per device and host thread,
// created on first use and kept for the process (cuBLAS handles are not thread-safe, and
// destroying one at exit may run after the CUDA context is gone).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! True when this build links cuBLAS.
bool gemmAvailable() noexcept;

//! C[m, n] = A[m, k] @ B[n, k]^T, all row-major and dense, of one element type `dtype` (float32,
//! float16, bfloat16), accumulated in float32 (fp16/bf16 on tensor cores; float32 without TF32,
//! so fp32 results stay fp32-exact). m, n or k of 0 enqueues nothing (callers handle k == 0, which
//! leaves C unwritten). Enqueued on `stream`.
cudaError_t gemmRowMajorBt(DType dtype, int64_t m, int64_t n, int64_t k, void const* a, void const* b, void* c,
    cudaStream_t stream) noexcept;

//! C[m, n] = A[m, k] @ B[k, n], all row-major and dense (a weights matrix stored [in, out], as
//! ONNX MatMul and com.microsoft Attention hold it); otherwise as gemmRowMajorBt.
cudaError_t gemmRowMajor(DType dtype, int64_t m, int64_t n, int64_t k, void const* a, void const* b, void* c,
    cudaStream_t stream) noexcept;

} // namespace trtplug
