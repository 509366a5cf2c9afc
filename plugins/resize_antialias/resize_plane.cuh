// The antialiased Resize of the last two axes in one kernel (included by resize_antialias.cu only):
// an NCHW image resize, torchvision's preprocessing, whose two axis passes would otherwise write
// the whole intermediate to memory and read it back (8x3x2160x3840 -> 512x910 in float32: 189 MB
// each way beside the 796 MB input). Here a block takes a tile of kTileRows x kTileCols outputs of
// one plane: the vertical pass sums the input rows of the tile's rows over the columns its
// horizontal taps reach into shared memory (float32), then the horizontal pass sums those. The
// input is read about once (neighbouring tiles' halos come from L2), the output written once.
// Both passes read the tap tables the two-pass path fills (first tap and normalised weights per
// output index), with its clamping and extrapolation, so the arithmetic is the vertical-first
// two-pass path's with a float32 intermediate.
#pragma once

#include "common/launch.cuh"
#include "resize_antialias/resize_math.cuh"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace trtplug
{
namespace resize_plane
{

constexpr int kThreads = 256;
constexpr int kTileRows = 16;
constexpr int kTileCols = 64;
constexpr size_t kSharedBudget = 48 * 1024; //!< no opt-in; 4K -> 512x910 bicubic takes ~19 KB

//! The geometry one launch needs: the two passes (vertical h, horizontal w), their tables, and
//! the columns of shared memory a tile's intermediate row may take.
struct PlaneResize
{
    AxisPass h, w;
    TapTable th, tw;
    int64_t planes;
    int32_t tilesH, tilesW;
    int32_t spanCols;
};

__device__ __forceinline__ int32_t clampIndex(int32_t i, int32_t last)
{
    return i < 0 ? 0 : (i > last ? last : i);
}

//! The vertical pass at output row oh and input column c of a plane (x at the plane's start).
template <class TIn>
__device__ __forceinline__ float verticalSum(TIn const* plane, PlaneResize const& p, int32_t oh, int32_t c)
{
    int32_t const first = p.th.first[oh];
    if (first == kExtrapolated)
    {
        return p.h.extrapolation;
    }
    auto const inW = static_cast<int32_t>(p.w.inLen);
    auto const last = static_cast<int32_t>(p.h.inLen) - 1;
    float const* weight = p.th.weights + oh;
    float acc = 0.F;
#pragma unroll 4
    for (int32_t k = 0; k < p.h.taps; ++k, weight += p.h.outLen)
    {
        acc += *weight * resizeLoad(plane[static_cast<int64_t>(clampIndex(first + k, last)) * inW + c]);
    }
    return acc;
}

//! The horizontal pass at output column ow over one intermediate row: `mid` holds the row's
//! columns c0 .. (shared memory), or is null and the vertical sums are taken from x (a tile whose
//! taps reach further than the shared row: only for geometries the host bound missed).
template <class TIn>
__device__ __forceinline__ float horizontalSum(
    TIn const* plane, PlaneResize const& p, int32_t oh, int32_t ow, float const* mid, int32_t c0)
{
    int32_t const first = p.tw.first[ow];
    if (first == kExtrapolated)
    {
        return p.w.extrapolation;
    }
    auto const last = static_cast<int32_t>(p.w.inLen) - 1;
    float const* weight = p.tw.weights + ow;
    float acc = 0.F;
    for (int32_t k = 0; k < p.w.taps; ++k, weight += p.w.outLen)
    {
        int32_t const c = clampIndex(first + k, last);
        acc += *weight * (mid != nullptr ? mid[c - c0] : verticalSum(plane, p, oh, c));
    }
    return acc;
}

//! The input columns [c0, c0 + span) the horizontal taps of outputs ow0 .. ow0 + cols reach (span
//! <= 0 when every one is extrapolated). Every thread of the block must call it.
__device__ __forceinline__ int32_t tileColumns(PlaneResize const& p, int32_t ow0, int32_t cols, int32_t& c0)
{
    __shared__ int32_t range[2];
    if (threadIdx.x == 0)
    {
        range[0] = INT_MAX;
        range[1] = -1;
    }
    __syncthreads();
    auto const last = static_cast<int32_t>(p.w.inLen) - 1;
    int32_t const first = threadIdx.x < cols ? p.tw.first[ow0 + threadIdx.x] : kExtrapolated;
    if (first != kExtrapolated)
    {
        atomicMin(&range[0], clampIndex(first, last));
        atomicMax(&range[1], clampIndex(first + p.w.taps - 1, last));
    }
    __syncthreads();
    c0 = range[0];
    return range[1] - range[0] + 1;
}

//! Grid-stride over the tiles of every plane: y[plane] = Resize(x[plane]) over the last two axes.
template <class TIn, class TOut>
__global__ void __launch_bounds__(kThreads) resizePlaneKernel(TIn const* x, TOut* y, PlaneResize const p)
{
    extern __shared__ float mid[]; // [kTileRows][p.spanCols]
    auto const outH = static_cast<int32_t>(p.h.outLen);
    auto const outW = static_cast<int32_t>(p.w.outLen);
    int64_t const perPlane = int64_t{p.tilesH} * p.tilesW;
    for (int64_t t = blockIdx.x; t < p.planes * perPlane; t += gridDim.x)
    {
        int64_t const plane = t / perPlane;
        auto const tile = static_cast<int32_t>(t - plane * perPlane);
        int32_t const oh0 = tile / p.tilesW * kTileRows;
        int32_t const ow0 = tile % p.tilesW * kTileCols;
        int32_t const rows = min(kTileRows, outH - oh0);
        int32_t const cols = min(kTileCols, outW - ow0);
        TIn const* const in = x + plane * p.h.inLen * p.w.inLen;
        int32_t c0 = 0;
        int32_t const span = tileColumns(p, ow0, cols, c0);
        bool const staged = span <= p.spanCols;
        for (int32_t i = threadIdx.x; staged && i < rows * span; i += kThreads)
        {
            int32_t const r = i / span;
            int32_t const c = i - r * span;
            mid[r * p.spanCols + c] = verticalSum(in, p, oh0 + r, c0 + c);
        }
        __syncthreads();
        TOut* const out = y + plane * outH * int64_t{outW};
        for (int32_t i = threadIdx.x; i < rows * kTileCols; i += kThreads)
        {
            int32_t const r = i / kTileCols;
            int32_t const c = i % kTileCols;
            if (c < cols)
            {
                float const* row = staged ? mid + r * p.spanCols : nullptr;
                float const v = horizontalSum(in, p, oh0 + r, ow0 + c, row, c0);
                out[static_cast<int64_t>(oh0 + r) * outW + ow0 + c] = ResizeStore<TOut>::of(v);
            }
        }
        __syncthreads(); // mid and the column range are the next tile's
    }
}

//! Input columns between the first taps of two outputs `apart` apart, at most: the source
//! coordinates' spacing per output (1 / scale, or the align_corners / tf_crop_and_resize spacing)
//! times `apart`, plus the floors' slack.
inline int32_t columnsReached(AxisPass const& a, int32_t apart)
{
    double spacing = 1.0 / a.scale;
    if (a.outLen > 1)
    {
        double const roi = a.coord == ResizeCoord::kTF_CROP_AND_RESIZE ? std::abs(double(a.roiEnd) - a.roiStart) : 1.0;
        spacing = std::max(spacing, roi * double(a.inLen - 1) / double(a.outLen - 1));
    }
    return static_cast<int32_t>(std::ceil(spacing * apart)) + a.taps + 2;
}

//! TRTPLUG_RESIZE_PLANE=0 (read per launch) sends every resize to the two-pass path: for
//! comparing the two in tests and benchmarks.
inline bool planeKernelAllowed() noexcept
{
    char const* choice = std::getenv("TRTPLUG_RESIZE_PLANE");
    return choice == nullptr || std::strcmp(choice, "0") != 0;
}

//! Whether the plane kernel takes a two-pass resize of the last two axes (`h` and `w` their passes,
//! tabled): the intermediate row of a tile must fit the shared budget and the int32 indices.
inline bool planeApplies(AxisPass const& h, AxisPass const& w, int64_t planes) noexcept
{
    int32_t const span = columnsReached(w, kTileCols - 1);
    return planeKernelAllowed() && planes > 0 && h.inLen * w.inLen < INT32_MAX && h.outLen * w.outLen < INT32_MAX
        && size_t(kTileRows) * size_t(span) * sizeof(float) <= kSharedBudget;
}

template <class TIn, class TOut>
cudaError_t launchPlane(TIn const* x, TOut* y, AxisPass const& h, AxisPass const& w, TapTable const& th,
    TapTable const& tw, int64_t planes, cudaStream_t stream)
{
    PlaneResize p{h, w, th, tw, planes, 0, 0, columnsReached(w, kTileCols - 1)};
    p.tilesH = static_cast<int32_t>((h.outLen + kTileRows - 1) / kTileRows);
    p.tilesW = static_cast<int32_t>((w.outLen + kTileCols - 1) / kTileCols);
    int64_t const tiles = planes * p.tilesH * p.tilesW;
    auto const blocks = static_cast<int>(std::min<int64_t>(tiles, int64_t{multiprocessorCount()} * 32));
    size_t const shared = size_t(kTileRows) * size_t(p.spanCols) * sizeof(float);
    resizePlaneKernel<<<blocks, kThreads, shared, stream>>>(x, y, p);
    return cudaGetLastError();
}

} // namespace resize_plane
} // namespace trtplug
