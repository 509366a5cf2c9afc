// The antialiased Resize of the last two axes in one kernel (included by resize_antialias.cu only):
// an NCHW image resize, torchvision's preprocessing, whose two axis passes would otherwise write
// the whole intermediate to memory and read it back (8x3x2160x3840 -> 512x910 in float32: 189 MB
// each way beside the 796 MB input). A block takes a tile of kTileRows x kTileCols outputs of one
// plane: the vertical pass sums the input rows of the tile's rows over the columns its horizontal
// taps reach, kVec columns per thread with vector loads, into shared memory (float32); then the
// horizontal pass sums those. The tile's weights and first taps are staged in shared memory first:
// read from the tables per tap and element, they made a first version of this kernel
// instruction-bound (70% SM, 30% DRAM, 1.6x slower than the two passes). The input is read about
// once (neighbouring tiles' halos come from L2), the output written once. Same tap tables,
// clamping and extrapolation as the two-pass path: its vertical-first arithmetic with a float32
// intermediate.
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
constexpr size_t kSharedBudget = 48 * 1024; //!< no opt-in; 4K -> 512x910 bicubic takes ~25 KB

//! Columns per thread in the vertical pass: 16 bytes of fp32, 8 of the narrower types.
template <class TIn>
constexpr int kVecOf = sizeof(TIn) >= 4 ? 4 : 8;

//! The geometry one launch needs: the two passes (vertical h, horizontal w), their tables, and
//! the shared row length (floats) of a tile's intermediate.
struct PlaneResize
{
    AxisPass h, w;
    TapTable th, tw;
    int64_t planes;
    int32_t tilesH, tilesW;
    int32_t spanCols;
};

//! A tile's shared memory: the intermediate rows, then the weights and first taps of its rows
//! (vertical) and columns (horizontal), weights as [output][tap].
struct TileShared
{
    float* mid;
    float* wH;
    float* wW;
    int32_t* fH;
    int32_t* fW;
};

__host__ __device__ inline size_t tileSharedBytes(PlaneResize const& p)
{
    return sizeof(float) * (size_t(kTileRows) * (p.spanCols + p.h.taps) + size_t(kTileCols) * p.w.taps)
        + sizeof(int32_t) * (kTileRows + kTileCols);
}

__device__ inline TileShared carveTile(float* base, PlaneResize const& p)
{
    TileShared s;
    s.mid = base;
    s.wH = s.mid + kTileRows * p.spanCols;
    s.wW = s.wH + kTileRows * p.h.taps;
    s.fH = reinterpret_cast<int32_t*>(s.wW + kTileCols * p.w.taps);
    s.fW = s.fH + kTileRows;
    return s;
}

__device__ __forceinline__ int32_t clampIndex(int32_t i, int32_t last)
{
    return i < 0 ? 0 : (i > last ? last : i);
}

//! The tile's first taps and weights into shared memory, and the input columns [c0, c0 + span)
//! its horizontal taps reach (span 0 when every column is extrapolated), c0 rounded down to kVec.
template <int kVec>
__device__ int32_t stageTile(PlaneResize const& p, TileShared const& s, int32_t oh0, int32_t ow0, int32_t& c0)
{
    __shared__ int32_t range[2];
    if (threadIdx.x == 0)
    {
        range[0] = INT_MAX;
        range[1] = -1;
    }
    auto const outH = static_cast<int32_t>(p.h.outLen);
    auto const outW = static_cast<int32_t>(p.w.outLen);
    for (int32_t i = threadIdx.x; i < kTileRows * p.h.taps; i += kThreads)
    {
        int32_t const r = i / p.h.taps;
        int32_t const k = i - r * p.h.taps;
        s.wH[i] = oh0 + r < outH ? p.th.weights[k * outH + oh0 + r] : 0.F;
    }
    for (int32_t i = threadIdx.x; i < kTileCols * p.w.taps; i += kThreads)
    {
        int32_t const c = i / p.w.taps;
        int32_t const k = i - c * p.w.taps;
        s.wW[i] = ow0 + c < outW ? p.tw.weights[k * outW + ow0 + c] : 0.F;
    }
    if (threadIdx.x < kTileRows)
    {
        s.fH[threadIdx.x] = oh0 + threadIdx.x < outH ? p.th.first[oh0 + threadIdx.x] : kExtrapolated;
    }
    __syncthreads(); // range is initialised
    auto const last = static_cast<int32_t>(p.w.inLen) - 1;
    if (threadIdx.x < kTileCols)
    {
        int32_t const first = ow0 + threadIdx.x < outW ? p.tw.first[ow0 + threadIdx.x] : kExtrapolated;
        s.fW[threadIdx.x] = first;
        if (first != kExtrapolated)
        {
            atomicMin(&range[0], clampIndex(first, last));
            atomicMax(&range[1], clampIndex(first + p.w.taps - 1, last));
        }
    }
    __syncthreads();
    if (range[1] < 0)
    {
        c0 = 0;
        return 0;
    }
    c0 = range[0] / kVec * kVec;
    return range[1] + 1 - c0;
}

//! The vertical pass of tile row r over kVec columns from c (shared weights), into `out`.
template <int kVec, class TIn>
__device__ __forceinline__ void verticalVector(
    TIn const* plane, PlaneResize const& p, TileShared const& s, int32_t r, int32_t c, float (&out)[kVec])
{
    int32_t const first = s.fH[r];
    float const start = first == kExtrapolated ? p.h.extrapolation : 0.F;
#pragma unroll
    for (int e = 0; e < kVec; ++e)
    {
        out[e] = start;
    }
    auto const inW = static_cast<int32_t>(p.w.inLen);
    auto const last = static_cast<int32_t>(p.h.inLen) - 1;
    float const* weight = s.wH + r * p.h.taps;
#pragma unroll 4
    for (int32_t k = 0; k < p.h.taps && first != kExtrapolated; ++k)
    {
        auto const taps = *reinterpret_cast<Vec<TIn, kVec> const*>(
            plane + static_cast<int64_t>(clampIndex(first + k, last)) * inW + c);
        float const w = weight[k];
#pragma unroll
        for (int e = 0; e < kVec; ++e)
        {
            out[e] += w * resizeLoad(taps.v[e]);
        }
    }
}

//! The horizontal pass at tile column c over the intermediate row `mid` (its column 0 is c0).
__device__ __forceinline__ float horizontalSum(PlaneResize const& p, TileShared const& s, float const* mid, int32_t c,
    int32_t c0)
{
    int32_t const first = s.fW[c];
    if (first == kExtrapolated)
    {
        return p.w.extrapolation;
    }
    auto const last = static_cast<int32_t>(p.w.inLen) - 1;
    float const* weight = s.wW + c * p.w.taps;
    float acc = 0.F;
    for (int32_t k = 0; k < p.w.taps; ++k)
    {
        acc += weight[k] * mid[clampIndex(first + k, last) - c0];
    }
    return acc;
}

//! The horizontal pass straight from x, each tap's vertical sum taken anew: for a tile whose taps
//! would reach past the shared row, which columnsReached's bound should never let happen.
template <class TIn>
__device__ float horizontalDirect(TIn const* plane, PlaneResize const& p, TileShared const& s, int32_t r, int32_t c)
{
    int32_t const first = s.fW[c];
    if (first == kExtrapolated)
    {
        return p.w.extrapolation;
    }
    auto const last = static_cast<int32_t>(p.w.inLen) - 1;
    float acc = 0.F;
    for (int32_t k = 0; k < p.w.taps; ++k)
    {
        float v[1];
        verticalVector<1>(plane, p, s, r, clampIndex(first + k, last), v);
        acc += s.wW[c * p.w.taps + k] * v[0];
    }
    return acc;
}

//! Grid-stride over the tiles of every plane: y[plane] = Resize(x[plane]) over the last two axes.
//! x's rows start on kVec elements (launchPlane checks), so every vector load is aligned.
template <int kVec, class TIn, class TOut>
__global__ void __launch_bounds__(kThreads) resizePlaneKernel(TIn const* x, TOut* y, PlaneResize const p)
{
    extern __shared__ float shared[];
    TileShared const s = carveTile(shared, p);
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
        int32_t const span = stageTile<kVec>(p, s, oh0, ow0, c0);
        bool const staged = span <= p.spanCols; // columnsReached's bound
        int32_t const groups = staged ? (span + kVec - 1) / kVec : 0;
        for (int32_t i = threadIdx.x; i < rows * groups; i += kThreads)
        {
            int32_t const r = i / groups;
            int32_t const g = i - r * groups;
            float v[kVec];
            verticalVector<kVec>(in, p, s, r, c0 + g * kVec, v);
#pragma unroll
            for (int e = 0; e < kVec; ++e)
            {
                s.mid[r * p.spanCols + g * kVec + e] = v[e];
            }
        }
        __syncthreads();
        TOut* const out = y + plane * outH * int64_t{outW};
        for (int32_t i = threadIdx.x; i < rows * kTileCols; i += kThreads)
        {
            int32_t const r = i / kTileCols;
            int32_t const c = i % kTileCols;
            if (c < cols)
            {
                float const v = staged ? horizontalSum(p, s, s.mid + r * p.spanCols, c, c0)
                                       : horizontalDirect(in, p, s, r, c);
                out[static_cast<int64_t>(oh0 + r) * outW + ow0 + c] = ResizeStore<TOut>::of(v);
            }
        }
        __syncthreads(); // the shared tile is the next tile's
    }
}

//! Input columns the horizontal taps of kTileCols consecutive outputs reach, at most: the source
//! coordinates' spacing per output (1 / scale, or the align_corners / tf_crop_and_resize spacing)
//! over the tile, the taps, the floors' slack and the rounding of the first column down to kVec.
inline int32_t columnsReached(AxisPass const& a, int kVec)
{
    double spacing = 1.0 / a.scale;
    if (a.outLen > 1)
    {
        double const roi = a.coord == ResizeCoord::kTF_CROP_AND_RESIZE ? std::abs(double(a.roiEnd) - a.roiStart) : 1.0;
        spacing = std::max(spacing, roi * double(a.inLen - 1) / double(a.outLen - 1));
    }
    int64_t const reach = static_cast<int64_t>(std::ceil(spacing * (kTileCols - 1))) + a.taps + 2 + kVec;
    return static_cast<int32_t>(std::min<int64_t>((reach + kVec - 1) / kVec * kVec, INT32_MAX / 2));
}

//! Whether the plane kernel should take a resize whose two-pass intermediate is `intermediateBytes`:
//! where that exceeds L2, so that the two passes would write it to memory and read it back. Below,
//! the two passes win: the intermediate stays in L2 between them and their kernels have no halo.
//! On an H100 (50 MB L2): 8x3x2160x3840 -> 512x910 bilinear fp32 (189 MB) 0.506 -> 0.399 ms, fp16
//! (94 MB) 0.316 -> 0.292 ms; 8x3x1024x1024 -> 224x224 (22 MB) 0.072 -> 0.075 ms, bicubic 0.106 ->
//! 0.128 ms. TRTPLUG_RESIZE_PLANE (read per launch) overrides: 1 wherever the kernel applies, 0 never.
inline bool planeChosen(int64_t intermediateBytes) noexcept
{
    char const* choice = std::getenv("TRTPLUG_RESIZE_PLANE");
    if (choice != nullptr)
    {
        return std::strcmp(choice, "0") != 0;
    }
    return intermediateBytes > cachedDeviceAttribute<cudaDevAttrL2CacheSize>(50 << 20);
}

//! One launch of the plane kernel over `planes` planes, or cudaErrorNotSupported when it does not
//! take the resize (then the caller runs the two passes): rows of whole vectors on their alignment,
//! int32 offsets within a plane, and a tile's intermediate within the shared budget. The caller
//! decides whether it should (planeChosen).
template <class TIn, class TOut>
cudaError_t launchPlane(TIn const* x, TOut* y, AxisPass const& h, AxisPass const& w, TapTable const& th,
    TapTable const& tw, int64_t planes, cudaStream_t stream)
{
    constexpr int kVec = kVecOf<TIn>;
    PlaneResize p{h, w, th, tw, planes, 0, 0, columnsReached(w, kVec)};
    size_t const shared = tileSharedBytes(p);
    bool const vectors = w.inLen % kVec == 0 && reinterpret_cast<uintptr_t>(x) % alignof(Vec<TIn, kVec>) == 0;
    if (!vectors || planes <= 0 || h.inLen * w.inLen >= INT32_MAX
        || h.outLen * w.outLen >= INT32_MAX || shared > kSharedBudget)
    {
        return cudaErrorNotSupported;
    }
    p.tilesH = static_cast<int32_t>((h.outLen + kTileRows - 1) / kTileRows);
    p.tilesW = static_cast<int32_t>((w.outLen + kTileCols - 1) / kTileCols);
    int64_t const tiles = planes * p.tilesH * p.tilesW;
    auto const blocks = static_cast<int>(std::min<int64_t>(tiles, int64_t{multiprocessorCount()} * 32));
    resizePlaneKernel<kVec><<<blocks, kThreads, shared, stream>>>(x, y, p);
    return cudaGetLastError();
}

//! The plane kernel for a tabled resize of exactly the last two axes (an NCHW image; `passes` and
//! `tables` in plan order) whose two-pass intermediate (`intermediateBytes`) planeChosen says is
//! worth skipping; cudaErrorNotSupported when it does not take the resize (the caller then runs
//! the passes).
template <class T>
cudaError_t launchIfChosen(ResizePlan const& plan, AxisPass const* passes, TapTable const* tables,
    int64_t intermediateBytes, T const* x, T* y, cudaStream_t stream)
{
    int32_t const h = plan.rank - 2;
    if (plan.nbPasses != 2 || h < 0 || plan.in[h] <= 0 || plan.in[h + 1] <= 0 || !planeChosen(intermediateBytes))
    {
        return cudaErrorNotSupported;
    }
    int32_t const jh = plan.passAxis[0] == h ? 0 : 1;
    if (plan.passAxis[jh] != h || plan.passAxis[1 - jh] != h + 1)
    {
        return cudaErrorNotSupported;
    }
    int64_t planes = 1;
    for (int32_t i = 0; i < h; ++i)
    {
        planes *= plan.in[i];
    }
    return launchPlane(x, y, passes[jh], passes[1 - jh], tables[jh], tables[1 - jh], planes, stream);
}

} // namespace resize_plane
} // namespace trtplug
