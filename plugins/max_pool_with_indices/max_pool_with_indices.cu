#include "common/dtype_dispatch.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "max_pool_with_indices/max_pool_with_indices.h"
#include "max_pool_with_indices/pool_pairs.cuh"

#include <climits>

namespace trtplug
{
namespace
{

//! Launch-constant geometry of an S-D pooling in the index type of IndexMath<kWide>: the
//! spatial rank is a template argument so the per-axis arrays stay in registers.
template <int S, bool kWide>
struct PoolArgs
{
    using Index = typename IndexMath<kWide>::Index;
    using Signed = typename IndexMath<kWide>::Signed;
    typename IndexMath<kWide>::Divmod out[S]; //!< output length per axis
    Signed in[S];
    Index rowStride[S]; //!< row-major stride of each spatial axis in a plane of x
    Index colStride[S]; //!< the same, column-major (storage_order 1)
    int32_t kernel[S];
    int32_t stride[S];
    int32_t dilation[S];
    int32_t begin[S];
    Index inVolume; //!< elements of one plane of x
    bool columnMajor;
};

//! The running maximum of one window and its position in the plane (-1: none inside yet).
template <class Signed>
struct Best
{
    float value;
    Signed index;
};

//! Visits the window's axes D..S-1 in row-major order of the offsets (axis S-1 fastest, as the
//! ONNX index order wants for ties), skipping whole sub-windows whose coordinate is padding.
template <int D, int S, bool kWide, class T>
__device__ __forceinline__ void walkWindow(T const* plane, PoolArgs<S, kWide> const& a,
    typename PoolArgs<S, kWide>::Signed const (&start)[S], typename PoolArgs<S, kWide>::Signed rowOffset,
    typename PoolArgs<S, kWide>::Signed colOffset, Best<typename PoolArgs<S, kWide>::Signed>& best)
{
    using Signed = typename PoolArgs<S, kWide>::Signed;
    for (int32_t k = 0; k < a.kernel[D]; ++k)
    {
        Signed const c = start[D] + Signed{k} * a.dilation[D];
        if (c < 0 || c >= a.in[D])
        {
            continue;
        }
        Signed const row = rowOffset + c * static_cast<Signed>(a.rowStride[D]);
        Signed const col = colOffset + c * static_cast<Signed>(a.colStride[D]);
        if constexpr (D + 1 < S)
        {
            walkWindow<D + 1, S, kWide>(plane, a, start, row, col, best);
        }
        else
        {
            float const v = toFloat(plane[row]);
            if (v > best.value)
            {
                best.value = v;
                best.index = a.columnMajor ? col : row;
            }
        }
    }
}

// One thread per output element: its coordinates by one divmod per axis, then the window.
template <class T, int S, bool kWide>
__global__ void __launch_bounds__(kBlockThreads) maxPoolWithIndices(T const* __restrict__ x, T* __restrict__ y,
    int64_t* __restrict__ indices, typename PoolArgs<S, kWide>::Index total, PoolArgs<S, kWide> a)
{
    using Index = typename PoolArgs<S, kWide>::Index;
    using Signed = typename PoolArgs<S, kWide>::Signed;
    Index const step = Index{gridDim.x} * blockDim.x;
    for (Index o = Index{blockIdx.x} * blockDim.x + threadIdx.x; o < total; o += step)
    {
        Signed start[S];
        Index rest = o;
#pragma unroll
        for (int d = S - 1; d >= 0; --d)
        {
            Index const q = a.out[d].div(rest);
            start[d] = static_cast<Signed>(rest - q * a.out[d].divisor) * a.stride[d] - a.begin[d];
            rest = q;
        }
        Index const planeBase = rest * a.inVolume;
        Best<Signed> best{-INFINITY, -1};
        walkWindow<0, S, kWide>(x + planeBase, a, start, 0, 0, best);
        y[o] = fromFloat<T>(best.value);
        indices[o] = best.index < 0 ? int64_t{-1} : static_cast<int64_t>(planeBase) + best.index;
    }
}

//! Grid-stride over pool_pairs.cuh's pairs, two adjacent outputs a thread.
template <class T, bool kWide>
__global__ void __launch_bounds__(kBlockThreads) maxPool2x2Pairs(
    T const* __restrict__ x, T* __restrict__ y, int64_t* __restrict__ indices, PairGeometry<kWide> geo)
{
    using Index = typename IndexMath<kWide>::Index;
    Index const step = Index{gridDim.x} * blockDim.x;
    for (Index t = Index{blockIdx.x} * blockDim.x + threadIdx.x; t < geo.pairs; t += step)
    {
        poolPair<T, kWide>(x, y, indices, geo, t);
    }
}

template <class T, bool kWide>
void launchPairs(void const* x, void* y, int64_t* indices, int64_t planes, PoolGeometry const& g, cudaStream_t stream)
{
    PairGeometry<kWide> const geo = pairGeometry<kWide>(g, planes);
    maxPool2x2Pairs<T, kWide><<<gridFor(static_cast<int64_t>(geo.pairs)), kBlockThreads, 0, stream>>>(
        static_cast<T const*>(x), static_cast<T*>(y), indices, geo);
}

template <int S, bool kWide>
PoolArgs<S, kWide> poolArgs(PoolGeometry const& g)
{
    using Args = PoolArgs<S, kWide>;
    Args a{};
    int64_t row = 1;
    int64_t col = 1;
    for (int32_t d = S - 1; d >= 0; --d)
    {
        a.rowStride[d] = static_cast<typename Args::Index>(row);
        row *= g.in[d];
    }
    for (int32_t d = 0; d < S; ++d)
    {
        a.colStride[d] = static_cast<typename Args::Index>(col);
        col *= g.in[d];
        a.out[d] = typename IndexMath<kWide>::Divmod(static_cast<typename Args::Index>(g.out[d]));
        a.in[d] = static_cast<typename Args::Signed>(g.in[d]);
        a.kernel[d] = g.kernel[d];
        a.stride[d] = g.stride[d];
        a.dilation[d] = g.dilation[d];
        a.begin[d] = g.begin[d];
    }
    a.inVolume = static_cast<typename Args::Index>(row);
    a.columnMajor = g.columnMajor;
    return a;
}

template <class T, int S, bool kWide>
void launchRank(void const* x, void* y, int64_t* indices, int64_t total, PoolGeometry const& g, cudaStream_t stream)
{
    maxPoolWithIndices<T, S, kWide><<<gridFor(total), kBlockThreads, 0, stream>>>(static_cast<T const*>(x),
        static_cast<T*>(y), indices, static_cast<typename PoolArgs<S, kWide>::Index>(total), poolArgs<S, kWide>(g));
}

template <class T, bool kWide>
void launchTyped(void const* x, void* y, int64_t* indices, int64_t total, PoolGeometry const& g, cudaStream_t stream)
{
    switch (g.spatial)
    {
    case 1: launchRank<T, 1, kWide>(x, y, indices, total, g, stream); break;
    case 2: launchRank<T, 2, kWide>(x, y, indices, total, g, stream); break;
    default: launchRank<T, 3, kWide>(x, y, indices, total, g, stream); break;
    }
}

//! 32-bit index math holds when every output, every input position and every window coordinate
//! (at most one dilated kernel past either end of an axis) fits an int32.
bool needsWideIndices(int64_t total, int64_t planes, PoolGeometry const& g)
{
    int64_t inTotal = planes;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        inTotal *= g.in[d];
        int64_t const reach = int64_t{g.kernel[d]} * g.dilation[d] + int64_t{g.stride[d]} + g.begin[d];
        if (g.out[d] * int64_t{g.stride[d]} + reach >= INT32_MAX)
        {
            return true;
        }
    }
    return total >= INT32_MAX || inTotal >= INT32_MAX;
}

} // namespace

cudaError_t launchMaxPoolWithIndices(DType dtype, void const* x, void* y, int64_t* indices, int64_t planes,
    PoolGeometry const& g, cudaStream_t stream) noexcept
{
    if (planes < 0 || g.spatial < 1 || g.spatial > kMaxPoolMaxSpatial)
    {
        return cudaErrorInvalidValue;
    }
    int64_t total = planes;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        if (g.out[d] < 0 || g.in[d] < 0 || g.kernel[d] < 1 || g.stride[d] < 1 || g.dilation[d] < 1)
        {
            return cudaErrorInvalidValue;
        }
        total *= g.out[d];
    }
    if (total == 0)
    {
        return cudaSuccess;
    }
    bool const wide = needsWideIndices(total, planes, g);
    return forFloatOrBf16Type(dtype, [&](auto zero) {
        using T = decltype(zero);
        if (pairsApply<T>(g, x, y, indices))
        {
            wide ? launchPairs<T, true>(x, y, indices, planes, g, stream)
                 : launchPairs<T, false>(x, y, indices, planes, g, stream);
            return cudaGetLastError();
        }
        wide ? launchTyped<T, true>(x, y, indices, total, g, stream)
             : launchTyped<T, false>(x, y, indices, total, g, stream);
        return cudaGetLastError();
    });
}

} // namespace trtplug
