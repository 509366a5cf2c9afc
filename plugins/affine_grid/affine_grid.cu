#include "common/dtype_dispatch.cuh"
#include "affine_grid/affine_grid.h"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"

#include <climits>

namespace trtplug
{
namespace
{

struct GridDims
{
    int64_t batch;
    int64_t depth; // 1 for 2-D
    int64_t height;
    int64_t width;
    float scale[3]; // base coordinate i -> i * scale + offset, for w, h, d
    float offset[3];
};

__device__ __forceinline__ float loadTheta(float const* t, int i) { return __ldg(t + i); }
__device__ __forceinline__ float loadTheta(__half const* t, int i) { return __half2float(t[i]); }
__device__ __forceinline__ float loadTheta(__nv_bfloat16 const* t, int i) { return __bfloat162float(t[i]); }

//! The run-time divisors of a launch: point index -> (n, d, h, w).
template <bool kWide>
struct GridDivisors
{
    typename IndexMath<kWide>::Divmod width, height, depth;
};

//! Grid point (n, d, h, w), stepped along w with carries: the chunk's first point costs three
//! divisions, the rest none.
template <class Index>
struct PointCursor
{
    Index n, d, h, w;

    __device__ __forceinline__ void step(GridDims const& g)
    {
        if (++w < g.width)
        {
            return;
        }
        w = 0;
        if (++h < g.height)
        {
            return;
        }
        h = 0;
        if (++d < g.depth)
        {
            return;
        }
        d = 0;
        ++n;
    }
};

//! theta[n] as floats: C rows of C + 1 (2 x 3 for 2-D, 3 x 4 for 3-D).
template <class T, int C>
struct ThetaRows
{
    float t[C * (C + 1)];

    __device__ __forceinline__ void load(T const* theta, int64_t n)
    {
#pragma unroll
        for (int i = 0; i < C * (C + 1); ++i)
        {
            t[i] = loadTheta(theta + n * (C * (C + 1)), i);
        }
    }

    //! Output r of the point at base coordinates c: theta[r] . (c, 1).
    __device__ __forceinline__ float row(int r, float const (&c)[3]) const
    {
        float v = t[r * (C + 1) + C];
#pragma unroll
        for (int k = C - 1; k >= 0; --k)
        {
            v = fmaf(t[r * (C + 1) + k], c[k], v);
        }
        return v;
    }
};

// Each thread writes kPoints consecutive points (16 / sizeof(T): 4 float32 or 8 16-bit points,
// C 16-byte stores): one 16-bit point is only 4 or 6 bytes, and a thread a point spent its issue
// slots on the 64-bit index divisions (fp16 at 28-32% of copy on an H100). The last, partial
// chunk and unaligned outputs store element by element.
template <class T, int C, bool kWide, bool kVector>
__global__ void affineGridChunks(T const* __restrict__ theta, T* __restrict__ grid, GridDims g, GridDivisors<kWide> div)
{
    using Index = typename IndexMath<kWide>::Index;
    constexpr int kPoints = 16 / sizeof(T);
    Index const points = static_cast<Index>(g.batch * g.depth * g.height * g.width);
    Index const chunks = (points + kPoints - 1) / kPoints;
    for (Index chunk = blockIdx.x * Index{blockDim.x} + threadIdx.x; chunk < chunks;
         chunk += Index{gridDim.x} * blockDim.x)
    {
        Index const first = chunk * kPoints;
        PointCursor<Index> at;
        at.w = div.width.mod(first);
        Index const rows = div.width.div(first);
        at.h = div.height.mod(rows);
        at.d = div.depth.mod(div.height.div(rows));
        at.n = div.depth.div(div.height.div(rows));
        ThetaRows<T, C> theta_n;
        theta_n.load(theta, at.n);
        alignas(16) T out[kPoints * C];
#pragma unroll
        for (int i = 0; i < kPoints; ++i)
        {
            float const c[3] = {static_cast<float>(at.w) * g.scale[0] + g.offset[0],
                static_cast<float>(at.h) * g.scale[1] + g.offset[1], static_cast<float>(at.d) * g.scale[2] + g.offset[2]};
#pragma unroll
            for (int r = 0; r < C; ++r)
            {
                out[i * C + r] = fromFloat<T>(theta_n.row(r, c));
            }
            Index const n = at.n;
            at.step(g);
            if (at.n != n && first + i + 1 < points) // the chunk crosses into the next batch item
            {
                theta_n.load(theta, at.n);
            }
        }
        T* dst = grid + first * C;
        if (kVector && first + kPoints <= points)
        {
#pragma unroll
            for (int s = 0; s < C; ++s)
            {
                reinterpret_cast<int4*>(dst)[s] = reinterpret_cast<int4 const*>(out)[s];
            }
            continue;
        }
        for (int e = 0; e < kPoints * C && first * C + e < points * C; ++e)
        {
            dst[e] = out[e];
        }
    }
}

//! Base coordinate of index i along an axis of length L: i * scale + offset.
void axisCoefficients(int64_t length, bool alignCorners, float& scale, float& offset)
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

template <class T, int C, bool kWide>
cudaError_t launchChunks(T const* theta, T* grid, GridDims const& g, cudaStream_t stream)
{
    int64_t const points = g.batch * g.depth * g.height * g.width;
    GridDivisors<kWide> div{typename IndexMath<kWide>::Divmod(static_cast<typename IndexMath<kWide>::Index>(g.width)),
        typename IndexMath<kWide>::Divmod(static_cast<typename IndexMath<kWide>::Index>(g.height)),
        typename IndexMath<kWide>::Divmod(static_cast<typename IndexMath<kWide>::Index>(g.depth))};
    int const blocks = gridFor((points + 16 / sizeof(T) - 1) / (16 / sizeof(T)));
    if (isAligned(grid, 16))
    {
        affineGridChunks<T, C, kWide, true><<<blocks, kBlockThreads, 0, stream>>>(theta, grid, g, div);
    }
    else
    {
        affineGridChunks<T, C, kWide, false><<<blocks, kBlockThreads, 0, stream>>>(theta, grid, g, div);
    }
    return cudaGetLastError();
}

template <class T>
cudaError_t launchTyped(void const* theta, void* grid, GridDims const& g, bool is3d, cudaStream_t stream)
{
    auto const* t = static_cast<T const*>(theta);
    auto* out = static_cast<T*>(grid);
    // 32-bit indices while every element index (and the last chunk's end) stays below 2^31.
    bool const wide = g.batch * g.depth * g.height * g.width * (is3d ? 3 : 2) + 16 > INT32_MAX;
    if (is3d)
    {
        return wide ? launchChunks<T, 3, true>(t, out, g, stream) : launchChunks<T, 3, false>(t, out, g, stream);
    }
    return wide ? launchChunks<T, 2, true>(t, out, g, stream) : launchChunks<T, 2, false>(t, out, g, stream);
}

} // namespace

cudaError_t launchAffineGrid(DType dtype, void const* theta, void* grid, int64_t batch, int64_t depth, int64_t height,
    int64_t width, bool is3d, bool alignCorners, cudaStream_t stream) noexcept
{
    if (batch < 0 || (is3d && depth < 0) || height < 0 || width < 0)
    {
        return cudaErrorInvalidValue;
    }
    GridDims g{batch, is3d ? depth : 1, height, width, {}, {}};
    if (g.batch * g.depth * g.height * g.width == 0)
    {
        return cudaSuccess;
    }
    axisCoefficients(width, alignCorners, g.scale[0], g.offset[0]);
    axisCoefficients(height, alignCorners, g.scale[1], g.offset[1]);
    axisCoefficients(g.depth, alignCorners, g.scale[2], g.offset[2]);
    return forFloatOrBf16Type(
        dtype, [&](auto zero) { return launchTyped<decltype(zero)>(theta, grid, g, is3d, stream); });
}

} // namespace trtplug
