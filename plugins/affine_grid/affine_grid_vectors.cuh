// AffineGrid as 16-byte vectors of the flat output (N x [D x] H x W x C elements, C = 2 or 3):
// vector v holds elements [v * E, v * E + E), E = 16 / sizeof(T), and the lanes of a warp take
// consecutive vectors, so one STG.E.128 writes 512 contiguous bytes. The kernel before gave each
// thread C consecutive vectors (whole points), 32 or 48 bytes apart across a warp: every store
// instruction wrote half (2-D) or a third (3-D) of each sector it touched; fp32 64% of copy on
// an H100. A vector's points are found with one multiply-high division per axis; when they lie in
// one row (the common case) their y / z terms are shared. Every output element keeps the op's
// float arithmetic: theta[r] . (x, y, [z,] 1) as fmaf from the last coordinate down to x.
// Host-callable for tests/affine_grid_emulation.cu.
#pragma once

#include "common/fast_divmod.cuh"
#include "common/launch.cuh"

#include <cstdint>

namespace trtplug
{

//! The grid's extents as dividers and the base-coordinate map of each axis (w, h, d).
template <bool kWide>
struct GridVectors
{
    using Index = typename IndexMath<kWide>::Index;
    using Divmod = typename IndexMath<kWide>::Divmod;

    Divmod width, height, depth;
    Index points;   // N * D * H * W
    Index elements; // points * C
    Index vectors;  // 16-byte vectors covering the elements, the last one maybe partial
    float scale[3]; // base coordinate of index i: i * scale + offset
    float offset[3];
};

//! Base coordinate i -> i * scale + offset of an axis of `length` points.
inline void axisCoefficients(int64_t length, bool alignCorners, float& scale, float& offset)
{
    if (alignCorners)
    {
        scale = length > 1 ? 2.f / static_cast<float>(length - 1) : 0.f;
        offset = -1.f;
    }
    else
    {
        scale = length > 0 ? 2.f / static_cast<float>(length) : 0.f;
        offset = length > 0 ? -1.f + 1.f / static_cast<float>(length) : 0.f;
    }
}

//! The vectors of a non-empty N x D x H x W grid of C-component points (D = 1 for 2-D).
template <bool kWide>
GridVectors<kWide> makeGridVectors(
    int64_t batch, int64_t depth, int64_t height, int64_t width, int c, int perVector, bool alignCorners)
{
    using G = GridVectors<kWide>;
    using Index = typename G::Index;
    G g{};
    g.width = typename G::Divmod(static_cast<Index>(width));
    g.height = typename G::Divmod(static_cast<Index>(height));
    g.depth = typename G::Divmod(static_cast<Index>(depth));
    int64_t const points = batch * depth * height * width;
    g.points = static_cast<Index>(points);
    g.elements = static_cast<Index>(points * c);
    g.vectors = static_cast<Index>((points * c + perVector - 1) / perVector);
    axisCoefficients(width, alignCorners, g.scale[0], g.offset[0]);
    axisCoefficients(height, alignCorners, g.scale[1], g.offset[1]);
    axisCoefficients(depth, alignCorners, g.scale[2], g.offset[2]);
    return g;
}

//! What a vector of T holds for C-component points: kElems elements, starting kLead components
//! into a point at most (0 when C divides kElems), touching at most kSpan points.
template <class T, int C>
struct VectorShape
{
    static constexpr int kElems = 16 / sizeof(T);
    static constexpr int kLead = kElems % C == 0 ? 0 : C - 1;
    static constexpr int kSpan = (kElems + kLead + C - 1) / C;
};

template <class Index>
struct GridPoint
{
    Index n, d, h, w;
};

//! Point p as (n, d, h, w): two multiply-high divisions for 2-D, three for 3-D.
template <int C, bool kWide>
__host__ __device__ __forceinline__ GridPoint<typename GridVectors<kWide>::Index> locate(
    GridVectors<kWide> const& g, typename GridVectors<kWide>::Index p)
{
    using Index = typename GridVectors<kWide>::Index;
    GridPoint<Index> at;
    Index const rows = g.width.div(p);
    at.w = p - rows * g.width.divisor;
    Index const slabs = g.height.div(rows);
    at.h = rows - slabs * g.height.divisor;
    if (C == 2)
    {
        at.d = 0;
        at.n = slabs;
        return at;
    }
    at.n = g.depth.div(slabs);
    at.d = slabs - at.n * g.depth.divisor;
    return at;
}

__host__ __device__ __forceinline__ float loadTheta(float const* t, int64_t i)
{
#ifdef __CUDA_ARCH__
    return __ldg(t + i);
#else
    return t[i];
#endif
}
__host__ __device__ __forceinline__ float loadTheta(__half const* t, int64_t i) { return __half2float(t[i]); }
__host__ __device__ __forceinline__ float loadTheta(__nv_bfloat16 const* t, int64_t i)
{
    return __bfloat162float(t[i]);
}

//! Base coordinate of index i along an axis (one FFMA on the device, as the kernel always had).
template <class Index>
__host__ __device__ __forceinline__ float coordinate(Index i, float scale, float offset)
{
    return static_cast<float>(i) * scale + offset;
}

//! theta[n] as floats (C rows of C + 1), reloaded only when a thread moves to another n.
template <class T, int C, class Index>
struct ThetaCache
{
    float t[C * (C + 1)];
    Index n{static_cast<Index>(-1)};

    __host__ __device__ __forceinline__ void use(T const* theta, Index item)
    {
        if (item == n)
        {
            return;
        }
        n = item;
#pragma unroll
        for (int i = 0; i < C * (C + 1); ++i)
        {
            t[i] = loadTheta(theta, static_cast<int64_t>(item) * (C * (C + 1)) + i);
        }
    }

    //! theta[r] . (c, 1) without the x term: fmaf from the constant down to c[1].
    __host__ __device__ __forceinline__ float partial(int r, float const (&c)[3]) const
    {
        float v = t[r * (C + 1) + C];
#pragma unroll
        for (int k = C - 1; k >= 1; --k)
        {
            v = fmaf(t[r * (C + 1) + k], c[k], v);
        }
        return v;
    }

    __host__ __device__ __forceinline__ float finish(int r, float x, float partialSum) const
    {
        return fmaf(t[r * (C + 1)], x, partialSum);
    }
};

//! The kSpan points from `at` on, all in its row: y, z and their fmaf terms computed once.
template <class T, int C, bool kWide, int N>
__host__ __device__ __forceinline__ void rowPoints(GridVectors<kWide> const& g,
    ThetaCache<T, C, typename GridVectors<kWide>::Index> const& theta,
    GridPoint<typename GridVectors<kWide>::Index> const& at, float (&flat)[N])
{
    float const c[3] = {0.f, coordinate(at.h, g.scale[1], g.offset[1]), coordinate(at.d, g.scale[2], g.offset[2])};
    float partial[C];
#pragma unroll
    for (int r = 0; r < C; ++r)
    {
        partial[r] = theta.partial(r, c);
    }
#pragma unroll
    for (int j = 0; j < N / C; ++j)
    {
        float const x = coordinate(at.w + j, g.scale[0], g.offset[0]);
#pragma unroll
        for (int r = 0; r < C; ++r)
        {
            flat[j * C + r] = theta.finish(r, x, partial[r]);
        }
    }
}

//! The kSpan points from p0 on, each located on its own: across rows, items and the grid's end
//! (points past it are zeros that no store keeps).
template <class T, int C, bool kWide, int N>
__host__ __device__ __forceinline__ void scatteredPoints(T const* theta, GridVectors<kWide> const& g,
    ThetaCache<T, C, typename GridVectors<kWide>::Index>& cache, typename GridVectors<kWide>::Index p0,
    float (&flat)[N])
{
#pragma unroll
    for (int j = 0; j < N / C; ++j)
    {
        bool const inside = p0 + j < g.points;
        auto const at = locate<C>(g, inside ? p0 + j : p0);
        cache.use(theta, at.n);
        float const c[3] = {coordinate(at.w, g.scale[0], g.offset[0]), coordinate(at.h, g.scale[1], g.offset[1]),
            coordinate(at.d, g.scale[2], g.offset[2])};
#pragma unroll
        for (int r = 0; r < C; ++r)
        {
            flat[j * C + r] = inside ? cache.finish(r, c[0], cache.partial(r, c)) : 0.f;
        }
    }
}

//! flat[k + lead] for a lead of 0 .. kLead known only at run time: selects, no local memory.
template <int kLead, int N>
__host__ __device__ __forceinline__ float pick(float const (&flat)[N], int k, int lead)
{
    float v = flat[k];
#pragma unroll
    for (int s = 1; s <= kLead; ++s)
    {
        v = lead == s ? flat[k + s] : v;
    }
    return v;
}

//! Vector `vec` of the grid: its elements' values in the output type.
template <class T, int C, bool kWide>
__host__ __device__ __forceinline__ Vec<T, VectorShape<T, C>::kElems> gridVector(T const* theta,
    GridVectors<kWide> const& g, ThetaCache<T, C, typename GridVectors<kWide>::Index>& cache,
    typename GridVectors<kWide>::Index vec)
{
    using Shape = VectorShape<T, C>;
    using Index = typename GridVectors<kWide>::Index;
    Index const e0 = vec * Shape::kElems;
    Index const p0 = e0 / C;
    int const lead = static_cast<int>(e0 - p0 * C);
    float flat[Shape::kSpan * C];
    auto const at = locate<C>(g, p0);
    if (at.w + Shape::kSpan <= g.width.divisor) // one row, so one item and no point past the end
    {
        cache.use(theta, at.n);
        rowPoints<T, C>(g, cache, at, flat);
    }
    else
    {
        scatteredPoints<T, C>(theta, g, cache, p0, flat);
    }
    Vec<T, Shape::kElems> out;
#pragma unroll
    for (int k = 0; k < Shape::kElems; ++k)
    {
        out.v[k] = fromFloat<T>(pick<Shape::kLead>(flat, k, lead));
    }
    return out;
}

//! A whole vector as one 16-byte store where the output is aligned; elements up to the end else.
template <class T, int E, bool kVector, class Index>
__host__ __device__ __forceinline__ void storeVector(T* grid, Vec<T, E> const& out, Index e0, Index elements)
{
    if (kVector && e0 + E <= elements)
    {
        *reinterpret_cast<Vec<T, E>*>(grid + e0) = out;
        return;
    }
#pragma unroll
    for (int k = 0; k < E; ++k)
    {
        if (e0 + k < elements)
        {
            grid[e0 + k] = out.v[k];
        }
    }
}

constexpr int kAffineGridUnroll = 2; // vectors a thread computes per loop step: two stores in flight

//! Thread `lane` of block `block` (of `blocks` x `threads`): a grid-stride loop over tiles of
//! threads x kAffineGridUnroll vectors, lane-consecutive vectors within a tile.
template <class T, int C, bool kWide, bool kVector>
__host__ __device__ __forceinline__ void gridThread(T const* theta, T* grid, GridVectors<kWide> const& g,
    uint32_t block, uint32_t blocks, uint32_t lane, uint32_t threads)
{
    using Index = typename GridVectors<kWide>::Index;
    constexpr int kElems = VectorShape<T, C>::kElems;
    ThetaCache<T, C, Index> cache;
    Index const stride = Index{blocks} * threads * kAffineGridUnroll;
    for (Index tile = Index{block} * threads * kAffineGridUnroll + lane; tile < g.vectors; tile += stride)
    {
#pragma unroll
        for (int u = 0; u < kAffineGridUnroll; ++u)
        {
            Index const vec = tile + Index{threads} * u;
            if (vec < g.vectors)
            {
                auto const out = gridVector<T, C>(theta, g, cache, vec);
                storeVector<T, kElems, kVector>(grid, out, vec * kElems, g.elements);
            }
        }
    }
}

} // namespace trtplug
