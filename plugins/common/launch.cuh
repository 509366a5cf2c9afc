// Launch helpers shared by the CUDA kernels: grid sizing for grid-stride loops and 16-byte
// vector access. Included only from .cu files.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace trtplug
{

constexpr int kBlockThreads = 256;

//! Launches a kernel that takes more than 48 KB of dynamic shared memory (which needs the opt-in).
template <typename... Params, typename... Args>
cudaError_t launchLargeShared(void (*kernel)(Params...), dim3 grid, int threads, size_t shared, cudaStream_t stream,
    Args const&... args) noexcept
{
    cudaError_t const err
        = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
    if (err != cudaSuccess)
    {
        return err;
    }
    kernel<<<grid, threads, shared, stream>>>(args...);
    return cudaGetLastError();
}

constexpr int kMaxCachedDevices = 64;

//! `query(device, value)` for the current device, run once per device (its positive answer kept
//! in `cache`, a failure as -1): launchers run on the enqueue hot path, where a device query on
//! every call is wasted work. 0 when the device is unknown or the query failed.
template <class Query>
int perDeviceOnce(std::atomic<int> (&cache)[kMaxCachedDevices], Query query) noexcept
{
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxCachedDevices)
    {
        return 0;
    }
    int value = cache[device].load(std::memory_order_relaxed);
    if (value == 0)
    {
        value = query(device, value) && value > 0 ? value : -1;
        cache[device].store(value, std::memory_order_relaxed);
    }
    return value > 0 ? value : 0;
}

//! A device attribute of the current device, queried once per device and attribute; `fallback`
//! when the query fails.
template <cudaDeviceAttr kAttr>
int cachedDeviceAttribute(int fallback) noexcept
{
    static std::atomic<int> cached[kMaxCachedDevices]{};
    int const value = perDeviceOnce(
        cached, [](int device, int& v) { return cudaDeviceGetAttribute(&v, kAttr, device) == cudaSuccess; });
    return value > 0 ? value : fallback;
}

//! Blocks of kKernel resident on one SM of the current device with `threads` a block and `shared`
//! bytes of dynamic shared memory (allowed first where above the default), asked once per device
//! and kernel (each instantiation keeps its own cache); 0 when unknown.
template <auto kKernel>
int residentBlocksPerSm(int threads, size_t shared = 0) noexcept
{
    static std::atomic<int> perSm[kMaxCachedDevices]{};
    return perDeviceOnce(perSm, [&](int, int& blocks) {
        return (shared == 0
                   || cudaFuncSetAttribute(
                          kKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared))
                       == cudaSuccess)
            && cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kKernel, threads, shared) == cudaSuccess;
    });
}

//! Multiprocessor count of the current device (132, an H100's, when unknown).
inline int multiprocessorCount() noexcept
{
    return cachedDeviceAttribute<cudaDevAttrMultiProcessorCount>(132);
}

//! Blocks for a grid-stride loop over `work` items: enough to fill every SM several times
//! over, never more than the work needs. 64-bit work counts are fine: the loop strides.
inline int gridFor(int64_t work, int threads = kBlockThreads) noexcept
{
    int64_t const needed = (work + threads - 1) / threads;
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(needed, int64_t{multiprocessorCount()} * 32)));
}

//! N elements of T moved as one aligned access (16 bytes when sizeof(T) * N == 16).
template <typename T, int N>
struct alignas(sizeof(T) * N) Vec
{
    T v[N];
};

//! The exponent of a power of two (the smallest s with 2^s >= n otherwise).
inline int32_t log2Of(int64_t n) noexcept
{
    int32_t s = 0;
    while ((int64_t{1} << s) < n)
    {
        ++s;
    }
    return s;
}

//! The plain store of the pipelined gathers (compress_slices.cuh, gather_block_quantized_rows.cuh):
//! they store through a functor so their host emulations can count each output's writes.
struct PlainStore
{
    template <typename V>
    __host__ __device__ __forceinline__ void operator()(V* at, V const& value) const
    {
        *at = value;
    }
};

inline bool isAligned(void const* p, size_t bytes) noexcept
{
    return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// Host too, so a kernel's per-element logic can run in a host emulation (tests/rotary_emulation.cu).
__host__ __device__ __forceinline__ float toFloat(float x) { return x; }
__host__ __device__ __forceinline__ float toFloat(__half x) { return __half2float(x); }
__host__ __device__ __forceinline__ float toFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T>
__host__ __device__ __forceinline__ T fromFloat(float x);
template <>
__host__ __device__ __forceinline__ float fromFloat<float>(float x) { return x; }
template <>
__host__ __device__ __forceinline__ __half fromFloat<__half>(float x) { return __float2half_rn(x); }
template <>
__host__ __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

} // namespace trtplug
