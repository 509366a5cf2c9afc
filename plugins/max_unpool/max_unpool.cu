#include "common/dtype_dispatch.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "max_unpool/max_unpool.h"

#include <climits>

namespace trtplug
{
namespace
{

// ---- General path: zero y, then scatter each x element to its index (any shapes, 64-bit). ----

struct UnpoolDims
{
    int32_t spatial;
    int64_t inferred[kMaxUnpoolMaxSpatial];
    int64_t out[kMaxUnpoolMaxSpatial];
    int64_t inferredVolume; // of one plane
    int64_t outVolume;      // of one plane
    int64_t inferredTotal;  // planes * inferredVolume
    bool same;              // out == inferred: the index is the output offset
};

template <class T>
__global__ void maxUnpoolScatter(T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y,
    int64_t count, UnpoolDims g)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        int64_t const idx = indices[i];
        if (idx < 0 || idx >= g.inferredTotal)
        {
            continue; // not a position of the unpooled tensor: nothing to write
        }
        int64_t dst = idx;
        if (!g.same)
        {
            int64_t rest = idx % g.inferredVolume;
            int64_t offset = 0;
            int64_t outStride = 1;
            for (int32_t d = g.spatial - 1; d >= 0; --d)
            {
                offset += (rest % g.inferred[d]) * outStride;
                rest /= g.inferred[d];
                outStride *= g.out[d];
            }
            dst = (idx / g.inferredVolume) * g.outVolume + offset;
        }
        y[dst] = x[i];
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

// ---- Window path: y split into the disjoint windows of x's elements, each written once. ----

//! x element i of (planes, in...) owns the window of y at in-coordinates * ratio, ratio long.
template <int S>
struct WindowArgs
{
    FastDivmod in[S];    //!< x's spatial lengths
    uint32_t ratio[S];   //!< window length per axis: inferred / in
    uint32_t yStride[S]; //!< row-major strides of a y plane
    uint32_t yPlane;     //!< elements of one y plane
    uint32_t yTotal;     //!< elements of y
    uint32_t count;      //!< elements of x
    int32_t* pending;    //!< set when some index points outside its own window
};

//! Offset in y of the first element of x element i's window.
template <int S>
__device__ __forceinline__ uint32_t windowBase(WindowArgs<S> const& a, uint32_t i)
{
    uint32_t rest = i;
    uint32_t base = 0;
#pragma unroll
    for (int d = S - 1; d >= 0; --d)
    {
        uint32_t const q = a.in[d].div(rest);
        base += (rest - q * a.in[d].divisor) * a.ratio[d] * a.yStride[d];
        rest = q;
    }
    return base + rest * a.yPlane;
}

//! f(offset of a window row) for each run of the innermost axis, outer axes in row-major order.
template <int D, int S, class F>
__device__ __forceinline__ void forEachRow(WindowArgs<S> const& a, uint32_t offset, F& f)
{
    if constexpr (D == S - 1)
    {
        f(offset);
    }
    else
    {
        for (uint32_t k = 0; k < a.ratio[D]; ++k)
        {
            forEachRow<D + 1, S>(a, offset + k * a.yStride[D], f);
        }
    }
}

// Pass 1: each x element writes its whole window, V elements per store: its value where its
// index points, zeros elsewhere. An index outside the window raises `pending` for pass 2.
template <class T, int S, int V>
__global__ void __launch_bounds__(kBlockThreads) unpoolWindows(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> a)
{
    uint32_t const i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= a.count)
    {
        return;
    }
    int64_t const idx = indices[i];
    T const v = x[i];
    T const zero = fromFloat<T>(0.0F);
    bool found = false;
    auto writeRow = [&](uint32_t row) {
        for (uint32_t k = 0; k < a.ratio[S - 1]; k += V)
        {
            Vec<T, V> out;
#pragma unroll
            for (int j = 0; j < V; ++j)
            {
                bool const hit = idx == int64_t{row + k + j};
                out.v[j] = hit ? v : zero;
                found = found || hit;
            }
            *reinterpret_cast<Vec<T, V>*>(y + row + k) = out;
        }
    };
    forEachRow<0, S>(a, windowBase(a, i), writeRow);
    if (!found && idx >= 0 && idx < int64_t{a.yTotal})
    {
        *a.pending = 1; // benign race: every writer stores 1
    }
}

// Pass 1 for the commonest shape, windows 2 long on the innermost axis (kernel = stride = 2): groups
// of four consecutive x elements (one 16- or 8-byte load of x, two of indices), their windows
// adjacent in each row, stored as 16-byte vectors.
constexpr int kPairGroup = 4; //!< x elements per group
//! Groups per thread, all loaded before the first store so that more bytes are in flight: on the
//! H100 (32x64x256x256 fp32) 1.46 ms with 8, 1.52 ms with 4, 1.59 ms with 1.
constexpr int kPairDepth = 8;

template <class T, int S>
__device__ __forceinline__ void writePairGroup(WindowArgs<S> const& a, T* __restrict__ y, uint32_t group,
    Vec<T, kPairGroup> const& v, int64_t const (&idx)[kPairGroup])
{
    constexpr int kRow = 2 * kPairGroup;   // y elements per window row of the group
    constexpr int kStore = 16 / sizeof(T); // y elements per store
    T const zero = fromFloat<T>(0.0F);
    bool found[kPairGroup] = {};
    auto writeRow = [&](uint32_t row) {
#pragma unroll
        for (int c = 0; c < kRow; c += kStore)
        {
            Vec<T, kStore> out;
#pragma unroll
            for (int e = 0; e < kStore; ++e)
            {
                int const g = (c + e) / 2;
                bool const hit = idx[g] == int64_t{row + c + e};
                out.v[e] = hit ? v.v[g] : zero;
                found[g] = found[g] || hit;
            }
            *reinterpret_cast<Vec<T, kStore>*>(y + row + c) = out;
        }
    };
    forEachRow<0, S>(a, windowBase(a, group * kPairGroup), writeRow);
#pragma unroll
    for (int g = 0; g < kPairGroup; ++g)
    {
        if (!found[g] && idx[g] >= 0 && idx[g] < int64_t{a.yTotal})
        {
            *a.pending = 1;
        }
    }
}

//! Thread t handles groups t, t + T, ... (T threads in the grid): each load of a warp is contiguous.
template <class T, int S>
__global__ void __launch_bounds__(kBlockThreads) unpoolWindowPairs(
    T const* __restrict__ x, int64_t const* __restrict__ indices, T* __restrict__ y, WindowArgs<S> a)
{
    uint32_t const groups = a.count / kPairGroup;
    uint32_t const threads = gridDim.x * blockDim.x; // about groups / kPairDepth: no uint32 overflow below
    uint32_t const first = blockIdx.x * blockDim.x + threadIdx.x;
    Vec<T, kPairGroup> v[kPairDepth];
    int64_t idx[kPairDepth][kPairGroup];
#pragma unroll
    for (int d = 0; d < kPairDepth; ++d)
    {
        uint32_t const group = first + d * threads;
        if (group < groups)
        {
            v[d] = reinterpret_cast<Vec<T, kPairGroup> const*>(x)[group];
            Vec<int64_t, 2> const lo = reinterpret_cast<Vec<int64_t, 2> const*>(indices)[2 * group];
            Vec<int64_t, 2> const hi = reinterpret_cast<Vec<int64_t, 2> const*>(indices)[2 * group + 1];
            idx[d][0] = lo.v[0];
            idx[d][1] = lo.v[1];
            idx[d][2] = hi.v[0];
            idx[d][3] = hi.v[1];
        }
    }
#pragma unroll
    for (int d = 0; d < kPairDepth; ++d)
    {
        uint32_t const group = first + d * threads;
        if (group < groups)
        {
            writePairGroup<T, S>(a, y, group, v[d], idx[d]);
        }
    }
}

// Pass 2 (does nothing unless pass 1 raised `pending`): indices outside their own window are
// scattered over the finished windows, so they win over the zeros and the windows' own values.
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
        int64_t const idx = indices[i];
        if (idx < 0 || idx >= int64_t{a.yTotal})
        {
            continue;
        }
        bool found = false;
        auto findInRow = [&](uint32_t row) { found = found || (idx >= row && idx < int64_t{row} + a.ratio[S - 1]); };
        forEachRow<0, S>(a, windowBase(a, i), findInRow);
        if (!found)
        {
            y[idx] = x[i];
        }
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
        unsigned const perBlock = kBlockThreads * kPairDepth * kPairGroup; // x elements per block
        unsigned const blocks = (a.count + perBlock - 1) / perBlock;
        unpoolWindowPairs<T, S><<<blocks, kBlockThreads, 0, stream>>>(x, indices, y, a);
    }
    else
    {
        unsigned const blocks = (a.count + kBlockThreads - 1) / kBlockThreads; // one x element per thread
        unpoolWindows<T, S, V><<<blocks, kBlockThreads, 0, stream>>>(x, indices, y, a);
    }
    unpoolStrays<T, S><<<gridFor(a.count), kBlockThreads, 0, stream>>>(x, indices, y, a);
    return cudaGetLastError();
}

//! The window arguments when the window path applies (see launchMaxUnpool), else false.
template <int S>
bool windowArgs(
    int64_t count, int64_t planes, int64_t const* in, UnpoolDims const& g, void* workspace, WindowArgs<S>& a)
{
    int64_t stride = 1;
    for (int32_t d = S - 1; d >= 0; --d)
    {
        if (in[d] <= 0 || !g.same || g.inferred[d] % in[d] != 0)
        {
            return false;
        }
        a.in[d] = FastDivmod(static_cast<uint32_t>(in[d]));
        a.ratio[d] = static_cast<uint32_t>(g.inferred[d] / in[d]);
        a.yStride[d] = static_cast<uint32_t>(stride);
        stride *= g.inferred[d];
    }
    if (workspace == nullptr || planes * g.inferredVolume >= INT32_MAX || count >= INT32_MAX)
    {
        return false;
    }
    a.yPlane = static_cast<uint32_t>(g.inferredVolume);
    a.yTotal = static_cast<uint32_t>(planes * g.inferredVolume);
    a.count = static_cast<uint32_t>(count);
    a.pending = static_cast<int32_t*>(workspace);
    return true;
}

//! Window path for rank S when it applies, storing 4, 2 or 1 elements at a time along the innermost axis.
template <class T, int S>
bool tryWindows(T const* x, int64_t const* indices, T* y, int64_t count, int64_t planes, int64_t const* in,
    UnpoolDims const& g, void* workspace, cudaStream_t stream, cudaError_t& err)
{
    WindowArgs<S> a{};
    if (!windowArgs<S>(count, planes, in, g, workspace, a))
    {
        return false;
    }
    uint32_t const inner = a.ratio[S - 1];
    bool const pairs = inner == 2 && in[S - 1] % kPairGroup == 0;
    if (pairs && isAligned(x, kPairGroup * sizeof(T)) && isAligned(indices, 16) && isAligned(y, 16))
    {
        err = unpoolByWindows<T, S, 0>(x, indices, y, a, stream);
    }
    else if (inner % 4 == 0 && isAligned(y, 4 * sizeof(T)))
    {
        err = unpoolByWindows<T, S, 4>(x, indices, y, a, stream);
    }
    else if (inner % 2 == 0 && isAligned(y, 2 * sizeof(T)))
    {
        err = unpoolByWindows<T, S, 2>(x, indices, y, a, stream);
    }
    else
    {
        err = unpoolByWindows<T, S, 1>(x, indices, y, a, stream);
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
    UnpoolDims g{spatialRank, {}, {}, 1, 1, 0, true};
    int64_t xVolume = planes;
    for (int32_t d = 0; d < spatialRank; ++d)
    {
        if (in[d] < 0 || inferred[d] < 0 || out[d] < inferred[d])
        {
            return cudaErrorInvalidValue; // the inferred tensor must fit at the output's start
        }
        g.inferred[d] = inferred[d];
        g.out[d] = out[d];
        g.inferredVolume *= inferred[d];
        g.outVolume *= out[d];
        g.same = g.same && inferred[d] == out[d];
        xVolume *= in[d];
    }
    if (xVolume != count)
    {
        return cudaErrorInvalidValue;
    }
    g.inferredTotal = planes * g.inferredVolume;
    if (planes * g.outVolume == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(dtype, [&](auto zero) {
        return unpoolTyped<decltype(zero)>(x, indices, y, count, planes, in, g, workspace, stream);
    });
}

} // namespace trtplug
