#include "common/gemm.h"

#if TRTPLUG_HAVE_CUBLAS
#include <cublas_v2.h>

#include <climits>
#include <map>
#endif

namespace trtplug
{

#if TRTPLUG_HAVE_CUBLAS
namespace
{

//! This thread's handle for the current device (created once).
cublasHandle_t handleForCurrentDevice(cublasStatus_t& status) noexcept
{
    thread_local std::map<int, cublasHandle_t> handles; // never destroyed: see gemm.h
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess)
    {
        status = CUBLAS_STATUS_NOT_INITIALIZED;
        return nullptr;
    }
    auto found = handles.find(device);
    if (found != handles.end())
    {
        status = CUBLAS_STATUS_SUCCESS;
        return found->second;
    }
    cublasHandle_t handle = nullptr;
    status = cublasCreate(&handle);
    if (status != CUBLAS_STATUS_SUCCESS)
    {
        return nullptr;
    }
    handles[device] = handle;
    return handle;
}

bool cudaTypeOf(DType dtype, cudaDataType_t& out) noexcept
{
    switch (dtype)
    {
    case DType::kFLOAT32: out = CUDA_R_32F; return true;
    case DType::kFLOAT16: out = CUDA_R_16F; return true;
    case DType::kBFLOAT16: out = CUDA_R_16BF; return true;
    default: return false;
    }
}

cudaError_t toCudaError(cublasStatus_t status) noexcept
{
    switch (status)
    {
    case CUBLAS_STATUS_SUCCESS: return cudaSuccess;
    case CUBLAS_STATUS_ALLOC_FAILED: return cudaErrorMemoryAllocation;
    case CUBLAS_STATUS_INVALID_VALUE: return cudaErrorInvalidValue;
    case CUBLAS_STATUS_NOT_SUPPORTED:
    case CUBLAS_STATUS_ARCH_MISMATCH: return cudaErrorNotSupported;
    default: return cudaErrorUnknown;
    }
}

} // namespace

bool gemmAvailable() noexcept
{
    return true;
}

namespace
{

//! Row-major C = A op(B) is column-major C^T = op(B)^T A^T: cuBLAS sees B's column-major view
//! (transposed when B is [n, k]), A's (k x m) and C's (n x m), every leading dimension a row length.
cudaError_t gemmRowMajorOf(DType dtype, int64_t m, int64_t n, int64_t k, void const* a, void const* b, bool bTransposed,
    void* c, cudaStream_t stream) noexcept
{
    cudaDataType_t type{};
    if (!cudaTypeOf(dtype, type) || m < 0 || n < 0 || k < 0 || m > INT_MAX || n > INT_MAX || k > INT_MAX)
    {
        return cudaErrorInvalidValue;
    }
    if (m == 0 || n == 0 || k == 0)
    {
        return cudaSuccess;
    }
    cublasStatus_t status{};
    cublasHandle_t handle = handleForCurrentDevice(status);
    if (handle == nullptr)
    {
        return toCudaError(status);
    }
    status = cublasSetStream(handle, stream);
    if (status != CUBLAS_STATUS_SUCCESS)
    {
        return toCudaError(status);
    }
    float const alpha = 1.0F;
    float const beta = 0.0F;
    auto const mi = static_cast<int>(m);
    auto const ni = static_cast<int>(n);
    auto const ki = static_cast<int>(k);
    status = cublasGemmEx(handle, bTransposed ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, ni, mi, ki, &alpha, b, type,
        bTransposed ? ki : ni, a, type, ki, &beta, c, type, ni, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    return toCudaError(status);
}

} // namespace

cudaError_t gemmRowMajorBt(DType dtype, int64_t m, int64_t n, int64_t k, void const* a, void const* b, void* c,
    cudaStream_t stream) noexcept
{
    return gemmRowMajorOf(dtype, m, n, k, a, b, true, c, stream);
}

cudaError_t gemmRowMajor(DType dtype, int64_t m, int64_t n, int64_t k, void const* a, void const* b, void* c,
    cudaStream_t stream) noexcept
{
    return gemmRowMajorOf(dtype, m, n, k, a, b, false, c, stream);
}

#else

bool gemmAvailable() noexcept
{
    return false;
}

cudaError_t gemmRowMajorBt(DType, int64_t, int64_t, int64_t, void const*, void const*, void*, cudaStream_t) noexcept
{
    return cudaErrorNotSupported;
}

cudaError_t gemmRowMajor(DType, int64_t, int64_t, int64_t, void const*, void const*, void*, cudaStream_t) noexcept
{
    return cudaErrorNotSupported;
}

#endif

} // namespace trtplug
