// Grid sampling kernel: one thread per output point (grid-stride), the taps' element offsets and
// weights computed once per point in float32 and reused over the C channels, as torch's kernel
// does. Templated on the element type, the taps per axis (1 nearest, 2 linear, 4 cubic) and the
// spatial rank, so the tap loops unroll into registers.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "grid_sample/grid_sample.h"

#include <cmath>

namespace trtplug
{
namespace
{

constexpr float kCubicA = -0.75F;

struct Geometry
{
    int64_t n{0};
    int64_t c{0};
    int64_t size[3]{};   //!< X's spatial dims
    int64_t stride[3]{}; //!< element strides of those dims in one channel
    int64_t plane{0};    //!< elements of one channel
    int64_t points{0};   //!< output points per batch item
};

__device__ float unnormalize(float g, int64_t length, bool align)
{
    return align ? (g + 1.F) * 0.5F * static_cast<float>(length - 1)
                 : ((g + 1.F) * static_cast<float>(length) - 1.F) * 0.5F;
}

//! x folded into [lo, hi] by reflections at both ends (lo == hi: lo).
__device__ float reflect(float x, float lo, float hi)
{
    float const span = hi - lo;
    if (span <= 0.F)
    {
        return lo;
    }
    bool const below = x < lo;
    if (!below && x <= hi)
    {
        return x;
    }
    float const dist = below ? lo - x : x - hi;
    float const flips = floorf(dist / span);
    float const rest = dist - flips * span;
    bool const even = fmodf(flips, 2.F) == 0.F;
    return below == even ? lo + rest : hi - rest;
}

__device__ void bounds(int64_t length, bool align, float& lo, float& hi)
{
    lo = align ? 0.F : -0.5F;
    hi = align ? static_cast<float>(length - 1) : static_cast<float>(length) - 0.5F;
}

__device__ float padCoordinate(float x, int64_t length, GridSampleConfig const& cfg)
{
    if (cfg.padding == GridPadding::kZEROS)
    {
        return x;
    }
    float lo;
    float hi;
    bounds(length, cfg.alignCorners, lo, hi);
    float const last = static_cast<float>(length - 1);
    if (cfg.padding == GridPadding::kBORDER)
    {
        bool const outside = x < lo || x > hi;
        return (cfg.onnxOrder && !outside) ? x : fminf(fmaxf(x, 0.F), last);
    }
    float const r = reflect(x, lo, hi);
    return cfg.onnxOrder ? r : fminf(fmaxf(r, 0.F), last);
}

//! In-range index of an integer tap position; `valid` false when zeros padding reads it as 0.
__device__ int64_t padTap(float pos, int64_t length, GridSampleConfig const& cfg, bool& valid)
{
    valid = true;
    if (cfg.padding == GridPadding::kZEROS)
    {
        valid = pos >= 0.F && pos < static_cast<float>(length);
    }
    else if (cfg.padding == GridPadding::kREFLECTION)
    {
        float lo;
        float hi;
        bounds(length, cfg.alignCorners, lo, hi);
        pos = truncf(reflect(pos, lo, hi));
    }
    float const clamped = fminf(fmaxf(pos, 0.F), static_cast<float>(length - 1));
    return static_cast<int64_t>(clamped);
}

__device__ float cubicNear(float d)
{
    return ((kCubicA + 2.F) * d - (kCubicA + 3.F)) * d * d + 1.F;
}

__device__ float cubicFar(float d)
{
    return ((kCubicA * d - 5.F * kCubicA) * d + 8.F * kCubicA) * d - 4.F * kCubicA;
}

//! Tap positions and weights along one axis for the unnormalized coordinate x.
template <int kTaps>
__device__ void axisTaps(float x, int64_t length, GridSampleConfig const& cfg, int64_t (&idx)[kTaps], float (&w)[kTaps])
{
    float start[kTaps];
    if constexpr (kTaps == 4)
    {
        x = cfg.onnxOrder ? padCoordinate(x, length, cfg) : x;
        float const base = floorf(x);
        float const t = x - base;
        float const weights[4] = {cubicFar(t + 1.F), cubicNear(t), cubicNear(1.F - t), cubicFar(2.F - t)};
#pragma unroll
        for (int i = 0; i < 4; ++i)
        {
            start[i] = base + static_cast<float>(i - 1);
            w[i] = weights[i];
        }
    }
    else if constexpr (kTaps == 2)
    {
        x = padCoordinate(x, length, cfg);
        float const base = floorf(x);
        start[0] = base;
        start[1] = base + 1.F;
        w[0] = 1.F - (x - base);
        w[1] = x - base;
    }
    else
    {
        start[0] = cfg.onnxOrder ? truncf(padCoordinate(rintf(x), length, cfg)) : rintf(padCoordinate(x, length, cfg));
        w[0] = 1.F;
    }
#pragma unroll
    for (int i = 0; i < kTaps; ++i)
    {
        bool valid;
        idx[i] = padTap(start[i], length, cfg, valid);
        w[i] = valid ? w[i] : 0.F;
    }
}

template <int kTaps, int kDims>
struct PointTaps
{
    static constexpr int kCount = kDims == 1 ? kTaps : (kDims == 2 ? kTaps * kTaps : kTaps * kTaps * kTaps);
    int64_t offset[kCount];
    float weight[kCount];
};

//! The point's taps: per axis, then their products (offsets into one channel).
template <typename T, int kTaps, int kDims>
__device__ PointTaps<kTaps, kDims> pointTaps(T const* g, Geometry const& geo, GridSampleConfig const& cfg)
{
    int64_t idx[3][kTaps];
    float w[3][kTaps];
#pragma unroll
    for (int a = 0; a < kDims; ++a)
    {
        float const coord = unnormalize(toFloat(g[kDims - 1 - a]), geo.size[a], cfg.alignCorners);
        axisTaps<kTaps>(coord, geo.size[a], cfg, idx[a], w[a]);
    }
    PointTaps<kTaps, kDims> taps;
#pragma unroll
    for (int j = 0; j < PointTaps<kTaps, kDims>::kCount; ++j)
    {
        int rest = j;
        int64_t offset = 0;
        float weight = 1.F;
#pragma unroll
        for (int a = kDims - 1; a >= 0; --a)
        {
            int const i = rest % kTaps;
            rest /= kTaps;
            offset += idx[a][i] * geo.stride[a];
            weight *= w[a][i];
        }
        taps.offset[j] = offset;
        taps.weight[j] = weight;
    }
    return taps;
}

template <typename T, int kTaps, int kDims>
__global__ void gridSampleKernel(Geometry geo, GridSampleConfig cfg, T const* x, T const* grid, T* y)
{
    int64_t const total = geo.n * geo.points;
    for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < total; p += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const n = p / geo.points;
        int64_t const q = p - n * geo.points;
        PointTaps<kTaps, kDims> const taps = pointTaps<T, kTaps, kDims>(grid + p * kDims, geo, cfg);
        T const* xc = x + n * geo.c * geo.plane;
        T* yc = y + n * geo.c * geo.points + q;
        for (int64_t c = 0; c < geo.c; ++c, xc += geo.plane, yc += geo.points)
        {
            float acc = 0.F;
#pragma unroll
            for (int j = 0; j < PointTaps<kTaps, kDims>::kCount; ++j)
            {
                if (taps.weight[j] != 0.F)
                {
                    acc += taps.weight[j] * toFloat(xc[taps.offset[j]]);
                }
            }
            *yc = fromFloat<T>(acc);
        }
    }
}

template <typename T, int kTaps>
cudaError_t launchForTaps(int dims, Geometry const& geo, GridSampleConfig const& cfg, T const* x, T const* grid,
    T* y, cudaStream_t stream)
{
    int const blocks = gridFor(geo.n * geo.points);
    switch (dims)
    {
    case 1: gridSampleKernel<T, kTaps, 1><<<blocks, kBlockThreads, 0, stream>>>(geo, cfg, x, grid, y); break;
    case 2: gridSampleKernel<T, kTaps, 2><<<blocks, kBlockThreads, 0, stream>>>(geo, cfg, x, grid, y); break;
    default: gridSampleKernel<T, kTaps, 3><<<blocks, kBlockThreads, 0, stream>>>(geo, cfg, x, grid, y); break;
    }
    return cudaGetLastError();
}

} // namespace

GridSampleConfig gridSampleConfig(glue_onnx_grid_sample::Params const& p) noexcept
{
    GridSampleConfig cfg;
    cfg.mode = (p.mode == "nearest") ? GridMode::kNEAREST
        : (p.mode == "cubic" || p.mode == "bicubic") ? GridMode::kCUBIC
                                                     : GridMode::kLINEAR;
    cfg.padding = p.padding_mode == "border" ? GridPadding::kBORDER
        : p.padding_mode == "reflection"     ? GridPadding::kREFLECTION
                                             : GridPadding::kZEROS;
    cfg.alignCorners = p.align_corners != 0;
    cfg.onnxOrder = true;
    return cfg;
}

GridSampleConfig gridSampleConfig(glue_mmcv_grid_sampler::Params const& p) noexcept
{
    GridSampleConfig cfg;
    cfg.mode = static_cast<GridMode>(p.interpolation_mode); // torch: 0 bilinear, 1 nearest, 2 bicubic
    cfg.padding = static_cast<GridPadding>(p.padding_mode); // torch: 0 zeros, 1 border, 2 reflection
    cfg.alignCorners = p.align_corners != 0;
    cfg.onnxOrder = false;
    return cfg;
}

std::string checkGridSampleShapes(TensorShape const& x, TensorShape const& grid, TensorShape const* y)
{
    int32_t const dims = x.rank - 2;
    if (dims < 1 || dims > 3)
    {
        return "X must have rank 3, 4 or 5 (N, C and 1-3 spatial dims), got rank " + std::to_string(x.rank);
    }
    if (grid.rank != x.rank || grid.d[0] != x.d[0] || grid.d[grid.rank - 1] != dims)
    {
        return "grid must be (N, *output dims, " + std::to_string(dims) + ") for X of rank " + std::to_string(x.rank);
    }
    if (y != nullptr)
    {
        bool same = y->rank == x.rank && y->d[0] == x.d[0] && y->d[1] == x.d[1];
        for (int32_t a = 0; a < dims && same; ++a)
        {
            same = y->d[2 + a] == grid.d[1 + a];
        }
        if (!same)
        {
            return "Y must be (N, C, *grid's output dims)";
        }
    }
    return "";
}

cudaError_t launchGridSample(DType dtype, GridSampleConfig const& config, TensorShape const& xShape,
    TensorShape const& gridShape, void const* x, void const* grid, void* y, cudaStream_t stream) noexcept
{
    int const dims = xShape.rank - 2;
    Geometry geo;
    geo.n = xShape.d[0];
    geo.c = xShape.d[1];
    geo.plane = 1;
    geo.points = 1;
    for (int a = dims - 1; a >= 0; --a)
    {
        geo.size[a] = xShape.d[2 + a];
        geo.stride[a] = geo.plane;
        geo.plane *= geo.size[a];
        geo.points *= gridShape.d[1 + a];
    }
    if (geo.n * geo.c * geo.points == 0)
    {
        return cudaSuccess;
    }
    if (geo.plane == 0) // an empty X reads as zeros
    {
        size_t const bytes = static_cast<size_t>(geo.n * geo.c * geo.points) * dtypeSize(dtype);
        return cudaMemsetAsync(y, 0, bytes, stream);
    }
    return forFloatOrBf16Type(dtype, [&](auto tag) {
        using T = decltype(tag);
        auto const* xs = static_cast<T const*>(x);
        auto const* gs = static_cast<T const*>(grid);
        auto* ys = static_cast<T*>(y);
        switch (config.mode)
        {
        case GridMode::kNEAREST: return launchForTaps<T, 1>(dims, geo, config, xs, gs, ys, stream);
        case GridMode::kCUBIC: return launchForTaps<T, 4>(dims, geo, config, xs, gs, ys, stream);
        default: return launchForTaps<T, 2>(dims, geo, config, xs, gs, ys, stream);
        }
    });
}

} // namespace trtplug
