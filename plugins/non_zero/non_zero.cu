// NonZero without host synchronization: one stream compaction of the flat indices whose element is
// non-zero (common/select_indices.cuh: tile counts, a scan of tile offsets, an order-preserving
// scatter; it also writes N into the size tensor), then one kernel unravels each flat index into
// its coordinates, launched for the upper bound with the work past N skipped. A 1-D x needs no
// unravel: the flat indices are the output and are selected straight into it.
// Count first (TRTPLUG_NON_ZERO=count-first, opt-in until its GPU cases have run): N counted by a
// reduction over x, then the compaction writes each selected index's coordinates straight into
// the [rank, N] rows: x read twice and no flat list (20 bytes an element of fp32 x at half
// selected become 16, against a floor of 12).
#include "non_zero/non_zero.h"

#include "common/launch.cuh"
#include "common/select_indices.cuh"
#include "common/workspace.h"

#include <cub/device/device_reduce.cuh>
#include <thrust/iterator/tabulate_output_iterator.h>
#include <thrust/iterator/transform_iterator.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace trtplug
{
namespace
{

constexpr int32_t kThreads = 256;

//! Tests an element's bits against `magnitude`: a float's bits without the sign (so -0.0 is zero
//! and NaN is not), every bit of an integer or bool.
template <class U>
struct NonZeroBits
{
    U magnitude;

    __host__ __device__ bool operator()(U bits) const { return (bits & magnitude) != 0; }
};

template <class U>
using FlagsOf = thrust::transform_iterator<NonZeroBits<U>, U const*>;

//! 1 for a non-zero element, 0 else: what the count-first reduction adds up.
template <class U>
struct NonZeroOne
{
    U magnitude;

    __host__ __device__ int64_t operator()(U bits) const { return (bits & magnitude) != 0 ? 1 : 0; }
};

template <class U>
using OnesOf = thrust::transform_iterator<NonZeroOne<U>, U const*>;

//! The count-first compaction's output: selected flat index `flat`, the j-th, written as its
//! coordinates y[d * N + j], N counted before the compaction.
struct UnravelInto
{
    int64_t* y;
    int64_t const* total;
    TensorShape shape;

    __device__ void operator()(int64_t j, int64_t flat) const
    {
        int64_t const n = *total;
        for (int32_t d = shape.rank - 1; d > 0; --d)
        {
            y[d * n + j] = flat % shape.d[d];
            flat /= shape.d[d];
        }
        y[j] = flat;
    }
};

using UnravelIt = thrust::tabulate_output_iterator<UnravelInto>;

//! TRTPLUG_NON_ZERO=count-first (read per launch) selects the count-first path for x of rank >= 2.
bool countFirst() noexcept
{
    char const* choice = std::getenv("TRTPLUG_NON_ZERO");
    return choice != nullptr && std::strcmp(choice, "count-first") == 0;
}

//! The count-first path: temp storage for the reduction and the compaction (one after the other)
//! after N's 8 bytes.
template <class U>
cudaError_t nonZeroCountFirst(U const* x, U magnitude, TensorShape const& shape, int64_t* y, int32_t* count,
    void* workspace, size_t workspaceBytes, cudaStream_t stream)
{
    int64_t const n = shape.volume();
    auto* total = static_cast<int64_t*>(workspace);
    void* temp = static_cast<char*>(workspace) + alignWorkspace(sizeof(int64_t));
    size_t tempBytes = workspaceBytes - alignWorkspace(sizeof(int64_t));
    OnesOf<U> const ones(x, NonZeroOne<U>{magnitude});
    cudaError_t err = cub::DeviceReduce::Sum(temp, tempBytes, ones, total, n, stream);
    if (err != cudaSuccess)
    {
        return err;
    }
    tempBytes = workspaceBytes - alignWorkspace(sizeof(int64_t));
    UnravelIt const out(UnravelInto{y, total, shape});
    return cub::DeviceSelect::Flagged(temp, tempBytes, thrust::counting_iterator<int64_t>(0),
        FlagsOf<U>(x, NonZeroBits<U>{magnitude}), out, count, n, stream);
}

//! Temp storage of the count-first path for n elements read as U.
template <class U>
size_t countFirstBytes(int64_t n) noexcept
{
    size_t reduce = 0;
    size_t select = 0;
    cub::DeviceReduce::Sum(nullptr, reduce, OnesOf<U>{}, static_cast<int64_t*>(nullptr), n);
    cub::DeviceSelect::Flagged(nullptr, select, thrust::counting_iterator<int64_t>(0), FlagsOf<U>{}, UnravelIt{},
        static_cast<int32_t*>(nullptr), n);
    return alignWorkspace(sizeof(int64_t)) + std::max(reduce, select);
}

//! The flat indices of x's elements, unraveled: y[d * n + j] = coordinate d of flat[j], j < n = *count.
__global__ void unravelIndices(
    int64_t const* __restrict__ flat, int32_t const* __restrict__ count, TensorShape shape, int64_t* __restrict__ y)
{
    int64_t const n = *count;
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < n;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t rest = flat[j];
        for (int32_t d = shape.rank - 1; d > 0; --d)
        {
            y[d * n + j] = rest % shape.d[d];
            rest /= shape.d[d];
        }
        y[j] = rest;
    }
}

template <class U>
cudaError_t nonZeroTyped(void const* x, U magnitude, TensorShape const& shape, int64_t* y, int32_t* count,
    void* workspace, size_t workspaceBytes, cudaStream_t stream)
{
    int64_t const n = shape.volume();
    // Each path checks only its own need (nonZeroWorkspaceBytes, the max over paths and widths, is
    // a dozen CUB size queries: host work a launch need not repeat).
    if (shape.rank >= 2 && countFirst())
    {
        return workspaceBytes < countFirstBytes<U>(n)
            ? cudaErrorInvalidValue
            : nonZeroCountFirst(static_cast<U const*>(x), magnitude, shape, y, count, workspace, workspaceBytes, stream);
    }
    FlagsOf<U> const flags(static_cast<U const*>(x), NonZeroBits<U>{magnitude});
    size_t const listBytes = alignWorkspace(static_cast<size_t>(n) * sizeof(int64_t));
    if (workspaceBytes < listBytes + selectIndicesTempBytes<FlagsOf<U>>(n))
    {
        return cudaErrorInvalidValue;
    }
    void* temp = static_cast<char*>(workspace) + listBytes;
    size_t tempBytes = workspaceBytes - listBytes;
    // A 0-D x still selects (its one flat index goes to the list) to count; y holds nothing then.
    auto* selected = shape.rank == 1 ? y : static_cast<int64_t*>(workspace);
    cudaError_t const err = selectIndices(temp, tempBytes, flags, n, selected, count, stream);
    if (err != cudaSuccess || shape.rank < 2)
    {
        return err;
    }
    unravelIndices<<<gridFor(n, kThreads), kThreads, 0, stream>>>(selected, count, shape, y);
    return cudaGetLastError();
}

} // namespace

size_t nonZeroWorkspaceBytes(int64_t elements) noexcept
{
    size_t const temp = std::max({selectIndicesTempBytes<FlagsOf<uint8_t>>(elements),
        selectIndicesTempBytes<FlagsOf<uint16_t>>(elements), selectIndicesTempBytes<FlagsOf<uint32_t>>(elements),
        selectIndicesTempBytes<FlagsOf<uint64_t>>(elements)});
    size_t const countFirstTemp = std::max({countFirstBytes<uint8_t>(elements), countFirstBytes<uint16_t>(elements),
        countFirstBytes<uint32_t>(elements), countFirstBytes<uint64_t>(elements)});
    return std::max(alignWorkspace(static_cast<size_t>(elements) * sizeof(int64_t)) + temp, countFirstTemp);
}

cudaError_t launchNonZero(DType dtype, void const* x, TensorShape const& shape, int64_t* y, int32_t* count,
    void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept
{
    int64_t const n = shape.volume();
    if (n > kNonZeroMaxElements)
    {
        return cudaErrorInvalidValue;
    }
    if (n == 0)
    {
        return cudaMemsetAsync(count, 0, sizeof(int32_t), stream);
    }
    // The bits that make an element non-zero: a float's without its sign, every bit of the others.
    auto run = [&](auto magnitude) {
        return nonZeroTyped(x, magnitude, shape, y, count, workspace, workspaceBytes, stream);
    };
    switch (dtype)
    {
    case DType::kFLOAT32: return run(uint32_t{0x7fffffff});
    case DType::kFLOAT16:
    case DType::kBFLOAT16: return run(uint16_t{0x7fff});
    case DType::kINT32: return run(~uint32_t{0});
    case DType::kINT64: return run(~uint64_t{0});
    case DType::kINT8:
    case DType::kUINT8:
    case DType::kBOOL: return run(uint8_t{0xff});
    }
    return cudaErrorInvalidValue;
}

} // namespace trtplug
