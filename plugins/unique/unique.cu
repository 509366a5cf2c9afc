// Unique on the GPU without a host round trip: ordered integer keys (floats mapped so that an
// unsigned comparison is NumPy's order), a stable sort of row ids (radix sort for one-element
// rows, merge sort over the key rows otherwise), head flags -> inclusive scan -> group ids,
// then per-group outputs; sorted=0 ranks the groups by first occurrence with one more scan.
// Every kernel after the sort reads the device count and is launched for the upper bound.
#include "common/dtype_dispatch.cuh"
#include "common/workspace.h"
#include "unique/unique.h"
#include "unique/unique_kernels.cuh"

#include <cub/device/device_merge_sort.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

namespace trtplug
{
namespace
{

using namespace unique_detail;

//! Byte offsets of the scratch buffers in the workspace.
struct Layout
{
    size_t keys, sortedKeys, ids, sortedIds, flags, group1, headPos, firstFlag, slot, temp, tempBytes, total;
};

template <class K>
cudaError_t sortTempBytes(UniqueDims d, size_t& bytes) noexcept
{
    int const rows = static_cast<int>(d.rows);
    if (d.rowLength() == 1)
    {
        return cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<K const*>(nullptr), static_cast<K*>(nullptr),
            static_cast<int32_t const*>(nullptr), static_cast<int32_t*>(nullptr), rows, 0, int{sizeof(K) * 8});
    }
    return cub::DeviceMergeSort::StableSortKeys(
        nullptr, bytes, static_cast<int32_t*>(nullptr), rows, RowLess<K>{nullptr, d.rowLength()});
}

template <class K>
cudaError_t layoutFor(UniqueDims d, Layout& l) noexcept
{
    size_t const rows = static_cast<size_t>(d.rows);
    bool const radix = d.rowLength() == 1;
    size_t sortBytes = 0, inclusive = 0, exclusive = 0;
    cudaError_t err = sortTempBytes<K>(d, sortBytes);
    int32_t* p = nullptr;
    if (err == cudaSuccess)
    {
        err = cub::DeviceScan::InclusiveSum(nullptr, inclusive, p, p, static_cast<int>(d.rows));
    }
    if (err == cudaSuccess)
    {
        err = cub::DeviceScan::ExclusiveSum(nullptr, exclusive, p, p, static_cast<int>(d.rows));
    }
    size_t at = 0;
    auto take = [&at](size_t bytes) {
        size_t const off = at;
        at += alignWorkspace(bytes);
        return off;
    };
    l.keys = take(static_cast<size_t>(d.rows * d.rowLength()) * sizeof(K));
    l.sortedKeys = take(radix ? rows * sizeof(K) : 0);
    l.ids = take(rows * sizeof(int32_t));
    l.sortedIds = radix ? take(rows * sizeof(int32_t)) : l.ids; // merge sort sorts in place
    l.flags = take(rows * sizeof(int32_t));
    l.group1 = take(rows * sizeof(int32_t));
    l.headPos = take((rows + 1) * sizeof(int32_t));
    l.firstFlag = take(rows * sizeof(int32_t));
    l.slot = take(rows * sizeof(int32_t));
    l.tempBytes = std::max(sortBytes, std::max(inclusive, exclusive));
    l.temp = take(l.tempBytes);
    l.total = at;
    return err;
}

bool validDims(UniqueDims d) noexcept
{
    return d.outer >= 0 && d.inner >= 0 && d.rows >= 0 && d.rows <= kUniqueMaxRows;
}

//! Bytes for `d` and for the radix path over as many rows: a plugin sizes the workspace from
//! the largest dims, whose path (merge sort for rows of several elements) may differ from the
//! actual one (a dynamic inner dim of 1 takes the radix path).
template <class K>
size_t workspaceBytesFor(UniqueDims d) noexcept
{
    Layout rows{};
    Layout flat{};
    if (layoutFor<K>(d, rows) != cudaSuccess || layoutFor<K>(UniqueDims{1, d.rows, 1}, flat) != cudaSuccess)
    {
        return 0;
    }
    return std::max(rows.total, flat.total);
}

} // namespace

namespace
{

template <class T>
struct Buffers
{
    using K = typename KeyOf<T>::type;
    K* keys;
    K* sortedKeys;
    int32_t* ids;
    int32_t* sortedIds;
    int32_t* flags;
    int32_t* group1;
    int32_t* headPos;
    int32_t* firstFlag;
    int32_t* slot;
    void* temp;

    Buffers(char* ws, Layout const& l)
        : keys(reinterpret_cast<K*>(ws + l.keys))
        , sortedKeys(reinterpret_cast<K*>(ws + l.sortedKeys))
        , ids(reinterpret_cast<int32_t*>(ws + l.ids))
        , sortedIds(reinterpret_cast<int32_t*>(ws + l.sortedIds))
        , flags(reinterpret_cast<int32_t*>(ws + l.flags))
        , group1(reinterpret_cast<int32_t*>(ws + l.group1))
        , headPos(reinterpret_cast<int32_t*>(ws + l.headPos))
        , firstFlag(reinterpret_cast<int32_t*>(ws + l.firstFlag))
        , slot(reinterpret_cast<int32_t*>(ws + l.slot))
        , temp(ws + l.temp)
    {
    }
};

//! Keys, stable sort of the row ids, head flags: after this, flags[i] marks group starts in
//! sorted order and b.sortedIds holds the original row of each sorted position.
template <class T>
cudaError_t sortAndFlag(T const* x, UniqueDims d, Buffers<T>& b, size_t tempBytes, cudaStream_t stream) noexcept
{
    using K = typename KeyOf<T>::type;
    int const rows = static_cast<int>(d.rows);
    int64_t const len = d.rowLength();
    makeKeys<<<gridFor(std::max(d.rows * len, d.rows)), kBlockThreads, 0, stream>>>(x, b.keys, b.ids, d);
    int const grid = gridFor(d.rows);
    cudaError_t err = cudaSuccess;
    if (len == 1)
    {
        err = cub::DeviceRadixSort::SortPairs(
            b.temp, tempBytes, b.keys, b.sortedKeys, b.ids, b.sortedIds, rows, 0, int{sizeof(K) * 8}, stream);
        headFlags<<<grid, kBlockThreads, 0, stream>>>(SortedKeysDiffer<K>{b.sortedKeys}, b.sortedIds, b.flags, d.rows);
    }
    else
    {
        err = cub::DeviceMergeSort::StableSortKeys(b.temp, tempBytes, b.ids, rows, RowLess<K>{b.keys, len}, stream);
        headFlags<<<grid, kBlockThreads, 0, stream>>>(RowsDiffer<K>{b.keys, len}, b.sortedIds, b.flags, d.rows);
    }
    return err;
}

template <class T>
cudaError_t runUnique(T const* x, UniqueDims d, bool sorted, void* y, int64_t* indices, int64_t* inverse,
    int64_t* counts, int32_t* count, char* ws, size_t wsBytes, cudaStream_t stream) noexcept
{
    using K = typename KeyOf<T>::type;
    Layout l{};
    cudaError_t err = layoutFor<K>(d, l);
    if (err != cudaSuccess || ws == nullptr || l.total > wsBytes)
    {
        return err != cudaSuccess ? err : cudaErrorInvalidValue;
    }
    Buffers<T> b(ws, l);
    int const rows = static_cast<int>(d.rows);
    int const grid = gridFor(d.rows);
    err = sortAndFlag(x, d, b, l.tempBytes, stream);
    if (err == cudaSuccess)
    {
        err = cub::DeviceScan::InclusiveSum(b.temp, l.tempBytes, b.flags, b.group1, rows, stream);
    }
    if (err == cudaSuccess && !sorted)
    {
        err = cudaMemsetAsync(b.firstFlag, 0, static_cast<size_t>(rows) * sizeof(int32_t), stream);
    }
    if (err != cudaSuccess)
    {
        return err;
    }
    groupHeads<<<grid, kBlockThreads, 0, stream>>>(
        b.group1, b.sortedIds, b.headPos, sorted ? nullptr : b.firstFlag, sorted ? inverse : nullptr, count, d.rows);
    int32_t const* firstRank = nullptr;
    if (!sorted)
    {
        // Exclusive sum of the first-occurrence marks: each first occurrence's rank (flags is free now).
        err = cub::DeviceScan::ExclusiveSum(b.temp, l.tempBytes, b.firstFlag, b.flags, rows, stream);
        firstRank = b.flags;
    }
    groupOutputs<<<grid, kBlockThreads, 0, stream>>>(
        b.headPos, b.sortedIds, firstRank, count, b.slot, indices, counts, d.rows);
    if (!sorted) // sorted: groupHeads wrote them (the group is the slot)
    {
        inverseIndices<<<grid, kBlockThreads, 0, stream>>>(b.sortedIds, b.group1, b.slot, inverse, d.rows);
    }
    int const yGrid = gridFor(d.outer * d.rows * d.inner);
    switch (sizeof(T))
    {
    case 2: gatherRows<<<yGrid, kBlockThreads, 0, stream>>>(reinterpret_cast<uint16_t const*>(x),
        static_cast<uint16_t*>(y), indices, count, d); break;
    case 4: gatherRows<<<yGrid, kBlockThreads, 0, stream>>>(reinterpret_cast<uint32_t const*>(x),
        static_cast<uint32_t*>(y), indices, count, d); break;
    default: gatherRows<<<yGrid, kBlockThreads, 0, stream>>>(reinterpret_cast<uint64_t const*>(x),
        static_cast<uint64_t*>(y), indices, count, d); break;
    }
    return err != cudaSuccess ? err : cudaGetLastError();
}

} // namespace

size_t uniqueWorkspaceBytes(DType dtype, UniqueDims dims) noexcept
{
    if (!validDims(dims))
    {
        return 0;
    }
    switch (dtype)
    {
    case DType::kFLOAT32:
    case DType::kINT32: return workspaceBytesFor<uint32_t>(dims);
    case DType::kFLOAT16:
    case DType::kBFLOAT16: return workspaceBytesFor<uint16_t>(dims);
    case DType::kINT64: return workspaceBytesFor<uint64_t>(dims);
    default: return 0;
    }
}

cudaError_t launchUnique(DType dtype, void const* x, UniqueDims dims, bool sorted, void* y, int64_t* indices,
    int64_t* inverse, int64_t* counts, int32_t* count, void* workspace, size_t workspaceBytes,
    cudaStream_t stream) noexcept
{
    if (!validDims(dims))
    {
        return cudaErrorInvalidValue;
    }
    if (dims.rows == 0)
    {
        return cudaMemsetAsync(count, 0, sizeof(int32_t), stream);
    }
    char* ws = static_cast<char*>(workspace);
    return forElementOrBf16Type(dtype, [&](auto zero) {
        using T = decltype(zero);
        return runUnique(static_cast<T const*>(x), dims, sorted, y, indices, inverse, counts, count, ws,
            workspaceBytes, stream);
    });
}

} // namespace trtplug
