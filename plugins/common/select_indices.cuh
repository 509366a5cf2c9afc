// Stream compaction of positions, for value-dependent outputs (Compress, NonZero): the indices i in
// [0, n) whose flag holds, ascending, and their number in a device int32 (the size tensor). One CUB
// DeviceSelect pass: per-tile counts, a decoupled look-back scan of the tile offsets and each tile's
// order-preserving scatter; no host synchronization, so it is CUDA-graph safe.
#pragma once

#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! `flags`: a random-access iterator of values convertible to bool (a bool array, or a
//! thrust::transform_iterator testing another array). temp == nullptr: only sets tempBytes.
template <class FlagIt>
cudaError_t selectIndices(void* temp, size_t& tempBytes, FlagIt flags, int64_t n, int64_t* selected, int32_t* count,
    cudaStream_t stream = nullptr) noexcept
{
    return cub::DeviceSelect::Flagged(
        temp, tempBytes, thrust::counting_iterator<int64_t>(0), flags, selected, count, n, stream);
}

//! The temp storage selectIndices needs for n flags read through FlagIt.
template <class FlagIt>
size_t selectIndicesTempBytes(int64_t n) noexcept
{
    size_t bytes = 0;
    selectIndices(nullptr, bytes, FlagIt{}, n, nullptr, nullptr);
    return bytes;
}

} // namespace trtplug
