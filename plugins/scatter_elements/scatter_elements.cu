#include "common/fast_divmod.cuh"
#include "common/scatter_reduce.cuh"
#include "scatter_elements/scatter_elements.h"

#include <climits>
#include <type_traits>

namespace trtplug
{
namespace
{

constexpr int kScatterUnroll = 4; // updates whose loads are in flight per thread

//! Launch-constant shapes, axes numbered from the innermost (j = rank - 1 - d) so that the
//! decomposition loop unrolls over kScatterMaxRank with compile-time array indices.
template <bool kWide>
struct ElementsArgs
{
    using Index = typename IndexMath<kWide>::Index;
    typename IndexMath<kWide>::Divmod updateDims[kScatterMaxRank];
    Index dataStrides[kScatterMaxRank];
    int32_t rank;
    int32_t axisFromInner;
    int64_t axisDim;
    Index updates;
};

//! Offset in out of update i with its axis coordinate replaced by `target`.
template <bool kWide>
__device__ __forceinline__ typename ElementsArgs<kWide>::Index targetOffset(
    ElementsArgs<kWide> const& a, typename ElementsArgs<kWide>::Index i, int64_t target)
{
    using Index = typename ElementsArgs<kWide>::Index;
    Index rest = i;
    Index offset = 0;
#pragma unroll
    for (int j = 0; j < kScatterMaxRank; ++j)
    {
        if (j < a.rank)
        {
            Index const q = a.updateDims[j].div(rest);
            Index const c = j == a.axisFromInner ? static_cast<Index>(target) : rest - q * a.updateDims[j].divisor;
            offset += c * a.dataStrides[j];
            rest = q;
        }
    }
    return offset;
}

// Each thread loads kScatterUnroll (index, update) pairs a block apart before applying any.
template <class T, bool kWide>
__global__ void __launch_bounds__(kBlockThreads) scatterElements(int64_t const* __restrict__ indices,
    T const* __restrict__ updates, T* out, ElementsArgs<kWide> a, ScatterReduction r)
{
    using Index = typename ElementsArgs<kWide>::Index;
    Index const tile = Index{blockDim.x} * kScatterUnroll;
    for (Index start = Index{blockIdx.x} * tile + threadIdx.x; start < a.updates; start += Index{gridDim.x} * tile)
    {
        int64_t index[kScatterUnroll];
        T update[kScatterUnroll];
#pragma unroll
        for (int k = 0; k < kScatterUnroll; ++k)
        {
            Index const i = start + k * blockDim.x;
            if (i < a.updates)
            {
                index[k] = indices[i];
                update[k] = updates[i];
            }
        }
#pragma unroll
        for (int k = 0; k < kScatterUnroll; ++k)
        {
            Index const i = start + k * blockDim.x;
            int64_t const target = i < a.updates ? scatter::wrapIndex(index[k], a.axisDim) : -1;
            if (target >= 0)
            {
                scatter::apply(r, out + targetOffset(a, i, target), update[k]);
            }
        }
    }
}

//! x + addIdentity<T>() == x bit for bit (-0.0: a -0.0 datum stays negative).
template <class T>
__device__ __forceinline__ T addIdentity()
{
    return std::is_same_v<T, float> ? T(-0.0F) : T(0);
}

// Reduction add along the innermost axis: one block per update row, which alone addresses its
// data row. The row's updates are summed in shared memory (shared-memory atomics, far cheaper
// than the global ones on colliding rows), then each sum is added to the data once.
template <class T>
__global__ void __launch_bounds__(kBlockThreads) scatterAddRows(int64_t const* __restrict__ indices,
    T const* __restrict__ updates, T* out, ElementsArgs<false> a, uint32_t rowLength)
{
    extern __shared__ __align__(16) unsigned char rowSumBytes[];
    T* sums = reinterpret_cast<T*>(rowSumBytes);
    auto const axisDim = static_cast<uint32_t>(a.axisDim);
    for (uint32_t j = threadIdx.x; j < axisDim; j += blockDim.x)
    {
        sums[j] = addIdentity<T>();
    }
    __syncthreads();
    uint32_t const first = blockIdx.x * rowLength;
    for (uint32_t start = threadIdx.x; start < rowLength; start += blockDim.x * kScatterUnroll)
    {
        int64_t index[kScatterUnroll];
        T update[kScatterUnroll];
#pragma unroll
        for (int k = 0; k < kScatterUnroll; ++k)
        {
            uint32_t const u = start + k * blockDim.x;
            if (u < rowLength)
            {
                index[k] = indices[first + u];
                update[k] = updates[first + u];
            }
        }
#pragma unroll
        for (int k = 0; k < kScatterUnroll; ++k)
        {
            int64_t const target = start + k * blockDim.x < rowLength ? scatter::wrapIndex(index[k], axisDim) : -1;
            if (target >= 0)
            {
                atomicAdd(sums + target, update[k]);
            }
        }
    }
    __syncthreads();
    T* row = out + targetOffset(a, first, 0);
    for (uint32_t j = threadIdx.x; j < axisDim; j += blockDim.x)
    {
        row[j] += sums[j];
    }
}

//! The shared-memory row path applies: add of float32/int32 along the innermost axis, the data
//! row fits the default 48 KB of shared memory, rows are long enough to pay for summing a whole
//! row and short enough (or numerous enough) to keep every SM busy.
bool rowSumsApply(DType dtype, ScatterReduction r, int32_t rank, int32_t axis, int64_t axisDim, int64_t rowLength,
    int64_t rows)
{
    constexpr int64_t kMaxSharedBytes = 48 << 10;
    return r == ScatterReduction::kADD && (dtype == DType::kFLOAT32 || dtype == DType::kINT32) && axis == rank - 1
        && axisDim * 4 <= kMaxSharedBytes && rowLength * 4 >= axisDim
        && (rowLength <= 4096 || rows >= 4 * int64_t{multiprocessorCount()});
}

template <bool kWide>
cudaError_t launchWidth(DType dtype, int64_t const* indices, void const* updates, void* out, int32_t rank,
    int64_t const* dataDims, int64_t const* updateDims, int32_t axis, ScatterReduction reduction, cudaStream_t stream)
{
    using Index = typename ElementsArgs<kWide>::Index;
    ElementsArgs<kWide> a{};
    a.rank = rank;
    a.axisFromInner = rank - 1 - axis;
    a.axisDim = dataDims[axis];
    int64_t dataVolume = 1;
    int64_t count = 1;
    for (int32_t j = 0; j < rank; ++j)
    {
        int32_t const d = rank - 1 - j;
        a.updateDims[j] = typename IndexMath<kWide>::Divmod(static_cast<Index>(updateDims[d]));
        a.dataStrides[j] = static_cast<Index>(dataVolume);
        dataVolume *= dataDims[d];
        count *= updateDims[d];
    }
    a.updates = static_cast<Index>(count);
    int64_t const rowLength = updateDims[rank - 1];
    if constexpr (!kWide)
    {
        if (rowSumsApply(dtype, reduction, rank, axis, a.axisDim, rowLength, count / rowLength))
        {
            auto const rows = static_cast<unsigned>(count / rowLength);
            size_t const shared = static_cast<size_t>(a.axisDim) * dtypeSize(dtype);
            auto const* u = static_cast<void const*>(updates);
            if (dtype == DType::kFLOAT32)
            {
                scatterAddRows<float><<<rows, kBlockThreads, shared, stream>>>(indices,
                    static_cast<float const*>(u), static_cast<float*>(out), a, static_cast<uint32_t>(rowLength));
            }
            else
            {
                scatterAddRows<int32_t><<<rows, kBlockThreads, shared, stream>>>(indices,
                    static_cast<int32_t const*>(u), static_cast<int32_t*>(out), a, static_cast<uint32_t>(rowLength));
            }
            return cudaGetLastError();
        }
    }
    int const blocks = gridFor((count + kScatterUnroll - 1) / kScatterUnroll);
    return scatter::dispatchType(dtype, [&](auto zero) {
        using T = decltype(zero);
        scatterElements<T, kWide><<<blocks, kBlockThreads, 0, stream>>>(
            indices, static_cast<T const*>(updates), static_cast<T*>(out), a, reduction);
    });
}

} // namespace

cudaError_t launchScatterElements(DType dtype, void const* data, int64_t const* indices, void const* updates, void* out,
    int32_t rank, int64_t const* dataDims, int64_t const* updateDims, int32_t axis, ScatterReduction reduction,
    cudaStream_t stream) noexcept
{
    if (rank < 1 || rank > kScatterMaxRank || axis < 0 || axis >= rank)
    {
        return cudaErrorInvalidValue;
    }
    int64_t dataVolume = 1;
    int64_t count = 1;
    for (int32_t d = rank - 1; d >= 0; --d)
    {
        if (updateDims[d] > dataDims[d] && d != axis)
        {
            return cudaErrorInvalidValue; // off-axis update coordinates must address data
        }
        dataVolume *= dataDims[d];
        count *= updateDims[d];
    }
    cudaError_t const err = scatter::copyData(data, out, dataVolume, dtype, stream);
    if (err != cudaSuccess || count == 0 || dataVolume == 0)
    {
        return err;
    }
    // 32-bit index math while every update and data offset fits (the "huge" parity case does not).
    bool const wide = count >= INT32_MAX || dataVolume >= INT32_MAX;
    return wide ? launchWidth<true>(dtype, indices, updates, out, rank, dataDims, updateDims, axis, reduction, stream)
                : launchWidth<false>(dtype, indices, updates, out, rank, dataDims, updateDims, axis, reduction, stream);
}

} // namespace trtplug
