// Compress in two steps, no host synchronization: cub::DeviceSelect::Flagged lists the selected
// axis indices and writes their count straight into the size tensor; a gather kernel then copies
// the selected slices, launched for the upper bound with threads past the count exiting.
#include "compress/compress.h"

#include "common/launch.cuh"

#include <cub/device/device_select.cuh>
#include <cub/iterator/counting_input_iterator.cuh>

namespace trtplug
{
namespace
{

constexpr size_t kAlign = 256;

size_t alignUp(size_t n) noexcept
{
    return (n + kAlign - 1) / kAlign * kAlign;
}

size_t selectTempBytes(int64_t n) noexcept
{
    size_t bytes = 0;
    cub::DeviceSelect::Flagged(nullptr, bytes, cub::CountingInputIterator<int64_t>(0),
        static_cast<bool const*>(nullptr), static_cast<int64_t*>(nullptr), static_cast<int32_t*>(nullptr), n);
    return bytes;
}

//! One thread per element of the upper-bound output [outer, selectable, inner]; the packed
//! output index uses the actual count, read from the device.
template <class T>
__global__ void gatherSelected(T const* __restrict__ x, int64_t const* __restrict__ selected,
    int32_t const* __restrict__ count, T* __restrict__ y, int64_t axisLen, int64_t selectable, int64_t inner,
    int64_t total)
{
    int64_t const n = *count;
    for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
         t += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const i = t % inner;
        int64_t const rest = t / inner;
        int64_t const s = rest % selectable;
        if (s >= n)
        {
            continue;
        }
        int64_t const o = rest / selectable;
        y[(o * n + s) * inner + i] = x[(o * axisLen + selected[s]) * inner + i];
    }
}

template <class T>
cudaError_t gather(void const* x, int64_t const* selected, int32_t const* count, CompressShape const& shape, void* y,
    cudaStream_t stream)
{
    int64_t const total = shape.outer * shape.selectable() * shape.inner;
    if (total == 0)
    {
        return cudaSuccess;
    }
    constexpr int32_t kThreads = 256;
    gatherSelected<T><<<gridFor(total, kThreads), kThreads, 0, stream>>>(static_cast<T const*>(x), selected, count,
        static_cast<T*>(y), shape.axisLen, shape.selectable(), shape.inner, total);
    return cudaGetLastError();
}

} // namespace

size_t compressWorkspaceBytes(CompressShape const& shape) noexcept
{
    int64_t const n = shape.selectable();
    return alignUp(static_cast<size_t>(n) * sizeof(int64_t)) + selectTempBytes(n);
}

cudaError_t launchCompress(DType dtype, void const* x, bool const* condition, CompressShape const& shape, void* y,
    int32_t* count, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept
{
    int64_t const n = shape.selectable();
    if (workspaceBytes < compressWorkspaceBytes(shape) || n > INT32_MAX)
    {
        return cudaErrorInvalidValue;
    }
    if (n == 0)
    {
        return cudaMemsetAsync(count, 0, sizeof(int32_t), stream);
    }
    auto* selected = static_cast<int64_t*>(workspace);
    void* temp = static_cast<char*>(workspace) + alignUp(static_cast<size_t>(n) * sizeof(int64_t));
    size_t tempBytes = workspaceBytes - alignUp(static_cast<size_t>(n) * sizeof(int64_t));
    cudaError_t err = cub::DeviceSelect::Flagged(
        temp, tempBytes, cub::CountingInputIterator<int64_t>(0), condition, selected, count, n, stream);
    if (err != cudaSuccess)
    {
        return err;
    }
    switch (dtypeSize(dtype))
    {
    case 1: return gather<uint8_t>(x, selected, count, shape, y, stream);
    case 2: return gather<uint16_t>(x, selected, count, shape, y, stream);
    case 4: return gather<uint32_t>(x, selected, count, shape, y, stream);
    case 8: return gather<uint64_t>(x, selected, count, shape, y, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug
