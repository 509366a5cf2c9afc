#include "common/dtype_dispatch.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "max_unpool/max_unpool.h"
#include "max_unpool/unpool_windows.cuh"

namespace trtplug
{
namespace
{

using unpool::UnpoolDims;
using unpool::WindowArgs;

template <class T>
__global__ void maxUnpoolScatter(T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y,
    int64_t count, UnpoolDims g)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        int64_t const dst = unpool::scatterTarget(g, indices[i]);
        if (dst >= 0)
        {
            y[dst] = x[i];
        }
    }
}

template <class T>
cudaError_t scatterAll(T const* x, int64_t const* indices, T* y, int64_t count, int64_t planes, UnpoolDims const& g,
    cudaStream_t stream)
{
    cudaError_t const err = cudaMemsetAsync(y, 0, planes * g.outVolume * sizeof(T), stream); // 0 is +0.0
    if (err != cudaSuccess || count == 0 || g.inferredVolume == 0)
    {
        return err;
    }
    maxUnpoolScatter<T><<<gridFor(count), kBlockThreads, 0, stream>>>(x, indices, y, count, g);
    return cudaGetLastError();
}

// ---- Window path (unpool_windows.cuh): pass 1 writes every window once, pass 2 places strays. ----

template <class T, int S, int V>
__global__ void __launch_bounds__(kBlockThreads) unpoolWindows(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> a)
{
    uint32_t const i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < a.count)
    {
        unpool::writeWindow<T, S, V>(x, indices, y, a, i);
    }
}

// 2 blocks an SM: 128 registers at most (fp32 1-D took 147 without the bound: one block an SM).
template <class T, int S>
__global__ void __launch_bounds__(kBlockThreads, 2) unpoolWindowPairs(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> a)
{
    unpool::writePairGroups<T, S>(x, indices, y, a, blockIdx.x * blockDim.x + threadIdx.x, gridDim.x * blockDim.x);
}

template <class T, int S>
__global__ void __launch_bounds__(kBlockThreads) unpoolStrays(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> a)
{
    if (*a.pending == 0)
    {
        return;
    }
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < a.count; i += gridDim.x * blockDim.x)
    {
        unpool::placeStray<T, S>(x, indices, y, a, i);
    }
}

//! V: elements per store of the one-element-per-thread pass 1; 0: unpoolWindowPairs.
template <class T, int S, int V>
cudaError_t unpoolByWindows(T const* x, int64_t const* indices, T* y, WindowArgs<S> const& a, cudaStream_t stream)
{
    cudaError_t const err = cudaMemsetAsync(a.pending, 0, sizeof(int32_t), stream);
    if (err != cudaSuccess)
    {
        return err;
    }
    if constexpr (V == 0)
    {
        unpoolWindowPairs<T, S><<<unpool::pairBlocks<T>(a.count), kBlockThreads, 0, stream>>>(x, indices, y, a);
    }
    else
    {
        unsigned const blocks = (a.count + kBlockThreads - 1) / kBlockThreads; // one x element per thread
        unpoolWindows<T, S, V><<<blocks, kBlockThreads, 0, stream>>>(x, indices, y, a);
    }
    unpoolStrays<T, S><<<gridFor(a.count), kBlockThreads, 0, stream>>>(x, indices, y, a);
    return cudaGetLastError();
}

//! Window path for rank S when it applies (see unpool::windowStore for the store width).
template <class T, int S>
bool tryWindows(T const* x, int64_t const* indices, T* y, int64_t count, int64_t planes, int64_t const* in,
    UnpoolDims const& g, void* workspace, cudaStream_t stream, cudaError_t& err)
{
    WindowArgs<S> a{};
    if (!unpool::windowArgs<S>(count, planes, in, g, workspace, a))
    {
        return false;
    }
    switch (unpool::windowStore<T>(a.ratio[S - 1], in[S - 1], x, indices, y))
    {
    case 0: err = unpoolByWindows<T, S, 0>(x, indices, y, a, stream); break;
    case 4: err = unpoolByWindows<T, S, 4>(x, indices, y, a, stream); break;
    case 2: err = unpoolByWindows<T, S, 2>(x, indices, y, a, stream); break;
    default: err = unpoolByWindows<T, S, 1>(x, indices, y, a, stream); break;
    }
    return true;
}

template <class T>
cudaError_t unpoolTyped(void const* xv, int64_t const* indices, void* yv, int64_t count, int64_t planes,
    int64_t const* in, UnpoolDims const& g, void* workspace, cudaStream_t stream)
{
    auto const* x = static_cast<T const*>(xv);
    auto* y = static_cast<T*>(yv);
    cudaError_t err = cudaSuccess;
    bool const done = count > 0
        && (g.spatial == 1   ? tryWindows<T, 1>(x, indices, y, count, planes, in, g, workspace, stream, err)
               : g.spatial == 2 ? tryWindows<T, 2>(x, indices, y, count, planes, in, g, workspace, stream, err)
               : g.spatial == 3 ? tryWindows<T, 3>(x, indices, y, count, planes, in, g, workspace, stream, err)
                                : false);
    return done ? err : scatterAll(x, indices, y, count, planes, g, stream);
}

} // namespace

cudaError_t launchMaxUnpool(DType dtype, void const* x, int64_t const* indices, void* y, int64_t count, int64_t planes,
    int32_t spatialRank, int64_t const* in, int64_t const* inferred, int64_t const* out, void* workspace,
    cudaStream_t stream) noexcept
{
    if (count < 0 || planes < 0 || spatialRank < 1 || spatialRank > kMaxUnpoolMaxSpatial)
    {
        return cudaErrorInvalidValue;
    }
    UnpoolDims g{};
    if (!unpool::unpoolDims(count, planes, spatialRank, in, inferred, out, g))
    {
        return cudaErrorInvalidValue;
    }
    if (planes * g.outVolume == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(dtype, [&](auto zero) {
        return unpoolTyped<decltype(zero)>(x, indices, y, count, planes, in, g, workspace, stream);
    });
}

} // namespace trtplug
