// Compress without host synchronization, by the shape of the selection:
// - one run of single elements (flattened, or a 1-D input): cub::DeviceSelect::Flagged copies the
//   flagged values straight to y and writes their number into the size tensor, in one pass;
// - otherwise Flagged lists the selected axis indices (and writes the count), then a gather copies
//   the selected slices, launched for the upper bound with the work past the count skipped: whole
//   slices per block in the widest aligned vectors when slices are long, one element per thread
//   when they are short.
#include "compress/compress.h"

#include "common/launch.cuh"
#include "common/select_indices.cuh"
#include "common/workspace.h"
#include "compress/compress_slices.cuh"

#include <cub/device/device_select.cuh>

namespace trtplug
{
namespace
{

constexpr int32_t kThreads = 256;

template <class In, class Out>
size_t selectTempBytes(int64_t n) noexcept
{
    size_t bytes = 0;
    cub::DeviceSelect::Flagged(nullptr, bytes, In{}, static_cast<bool const*>(nullptr), static_cast<Out*>(nullptr),
        static_cast<int32_t*>(nullptr), n);
    return bytes;
}

//! Short slices: one thread per element of the upper-bound output [outer, selectable, inner].
template <class T>
__global__ void gatherElements(T const* __restrict__ x, int64_t const* __restrict__ selected,
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
        if (s < n)
        {
            int64_t const o = rest / selectable;
            y[(o * n + s) * inner + i] = x[(o * axisLen + selected[s]) * inner + i];
        }
    }
}

template <class V>
cudaError_t launchSlices(void const* x, int64_t const* selected, int32_t const* count, CompressShape const& shape,
    int64_t chunks, void* y, cudaStream_t stream)
{
    int64_t const rows = shape.outer * shape.selectable();
    if (rows == 0)
    {
        return cudaSuccess; // no slice to copy (an empty outer axis); a 0-block launch would fail
    }
    SliceGather<V> const g{static_cast<V const*>(x), selected, static_cast<V*>(y), shape.axisLen, shape.selectable(),
        chunks, rows, 0};
    SliceLaunch const launch = sliceLaunch(rows, chunks, int64_t{multiprocessorCount()} * 16);
    gatherSlices<V><<<launch.blocks, launch.block, 0, stream>>>(g, count);
    return cudaGetLastError();
}

template <class T>
cudaError_t gather(void const* x, int64_t const* selected, int32_t const* count, CompressShape const& shape, void* y,
    cudaStream_t stream)
{
    size_t const sliceBytes = static_cast<size_t>(shape.inner) * sizeof(T);
    size_t const width = sliceVectorBytes(sliceBytes, x, y);
    auto const chunks = width ? static_cast<int64_t>(sliceBytes / width) : 0;
    switch (width)
    {
    case 16: return launchSlices<uint4>(x, selected, count, shape, chunks, y, stream);
    case 8: return launchSlices<uint2>(x, selected, count, shape, chunks, y, stream);
    case 4: return launchSlices<uint32_t>(x, selected, count, shape, chunks, y, stream);
    default: break;
    }
    int64_t const total = shape.outer * shape.selectable() * shape.inner;
    gatherElements<T><<<gridFor(total, kThreads), kThreads, 0, stream>>>(static_cast<T const*>(x), selected, count,
        static_cast<T*>(y), shape.axisLen, shape.selectable(), shape.inner, total);
    return cudaGetLastError();
}

//! One run of single elements: the flagged values themselves are selected, in one CUB pass.
template <class T>
cudaError_t selectValues(void const* x, bool const* condition, int64_t n, void* y, int32_t* count, void* temp,
    size_t tempBytes, cudaStream_t stream)
{
    return cub::DeviceSelect::Flagged(
        temp, tempBytes, static_cast<T const*>(x), condition, static_cast<T*>(y), count, n, stream);
}

template <class T>
cudaError_t compressTyped(void const* x, bool const* condition, CompressShape const& shape, void* y, int32_t* count,
    void* workspace, size_t workspaceBytes, cudaStream_t stream)
{
    int64_t const n = shape.selectable();
    if (shape.outer == 1 && shape.inner == 1)
    {
        return selectValues<T>(x, condition, n, y, count, workspace, workspaceBytes, stream);
    }
    size_t const listBytes = alignWorkspace(static_cast<size_t>(n) * sizeof(int64_t));
    auto* selected = static_cast<int64_t*>(workspace);
    void* temp = static_cast<char*>(workspace) + listBytes;
    size_t tempBytes = workspaceBytes - listBytes;
    cudaError_t const err = selectIndices(temp, tempBytes, condition, n, selected, count, stream);
    return err != cudaSuccess ? err : gather<T>(x, selected, count, shape, y, stream);
}

} // namespace

size_t compressWorkspaceBytes(CompressShape const& shape) noexcept
{
    int64_t const n = shape.selectable();
    size_t const indices
        = alignWorkspace(static_cast<size_t>(n) * sizeof(int64_t)) + selectIndicesTempBytes<bool const*>(n);
    size_t const values = std::max({selectTempBytes<uint8_t const*, uint8_t>(n),
        selectTempBytes<uint16_t const*, uint16_t>(n), selectTempBytes<uint32_t const*, uint32_t>(n),
        selectTempBytes<uint64_t const*, uint64_t>(n)});
    return std::max(indices, values);
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
    switch (dtypeSize(dtype))
    {
    case 1: return compressTyped<uint8_t>(x, condition, shape, y, count, workspace, workspaceBytes, stream);
    case 2: return compressTyped<uint16_t>(x, condition, shape, y, count, workspace, workspaceBytes, stream);
    case 4: return compressTyped<uint32_t>(x, condition, shape, y, count, workspace, workspaceBytes, stream);
    case 8: return compressTyped<uint64_t>(x, condition, shape, y, count, workspace, workspaceBytes, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug
