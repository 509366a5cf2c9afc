// CumSum / CumProd kernels. The axis is read on the device (its value never reaches the host), so
// one kernel takes any axis: it splits x into (outer, length, inner) at that axis and picks
//  - rows (inner == 1, length >= kRowMin): one warp per row, tiles of 256 elements staged through shared
//    memory so that global loads and stores are coalesced while each lane scans kItems
//    consecutive elements; a warp scan of the lane totals and the carry of the earlier tiles
//    give each element its prefix;
//  - columns (any other axis, and short rows): one thread per (outer, inner) pair walking the
//    axis with a stride of `inner`; neighbouring threads read neighbouring addresses, and
//    kColumnUnroll loads are issued before their dependent accumulations;
//  - segmented columns (fewer than kSegmentedBelowColumns columns of kSegmentedMinLength or more):
//    as columns, with each column's length split over a block's 8 warps, reduce then scan;
//  - segmented rows (no more rows than blocks, each 8 tiles or longer): a block per row, its 8
//    warps reduce a segment each, then scan it from the totals of the segments before.
// Rows and columns read and write each element once (the traffic of a copy); the segmented paths
// read x twice. Not done: a grid-wide scan of one row (decoupled look-back), so a 1-D scan runs on
// one block.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "cumulative/cumulative.h"

#include <cstdint>
#include <type_traits>

namespace trtplug
{
namespace
{

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpsPerBlock = kBlockThreads / kWarp;
constexpr int kLaneItems = 8; //!< elements per lane and tile (4 for int64); more would spill
constexpr int kMinBlocksPerSm = 4; //!< fp32: 64 registers; the other types 3 (85: no spills)
constexpr int kRowMin = 128;     //!< shorter rows go to the column path (a warp would idle)
constexpr int kColumnUnroll = 8; //!< loads in flight per column thread (4 for int64: no spills)
constexpr int64_t kSegmentedBelowColumns = 65536; //!< fewer columns than this: ~16 warps per SM or less
constexpr int64_t kSegmentedMinLength = 64;

//! The accumulator and the conversions of element type T: float32 for the float types; for the
//! integers the unsigned type of their width, where wraparound is defined and equals the
//! two's-complement wraparound of the signed sum or product.
template <typename T>
struct ScanType
{
    using Acc = float;
    __device__ static Acc widen(T v) { return toFloat(v); }
    __device__ static T narrow(Acc a) { return fromFloat<T>(a); }
    __device__ static T invalid() { return fromFloat<T>(__int_as_float(0x7fc00000)); } // NaN
};

template <>
struct ScanType<int32_t>
{
    using Acc = unsigned int;
    __device__ static Acc widen(int32_t v) { return static_cast<Acc>(v); }
    __device__ static int32_t narrow(Acc a) { return static_cast<int32_t>(a); }
    __device__ static int32_t invalid() { return INT32_MIN; }
};

template <>
struct ScanType<int64_t>
{
    using Acc = unsigned long long;
    __device__ static Acc widen(int64_t v) { return static_cast<Acc>(v); }
    __device__ static int64_t narrow(Acc a) { return static_cast<int64_t>(a); }
    __device__ static int64_t invalid() { return INT64_MIN; }
};

struct SumOp
{
    template <typename A>
    __device__ A operator()(A a, A b) const
    {
        return a + b;
    }
    template <typename A>
    __device__ static A identity()
    {
        return A(0);
    }
};

struct ProdOp
{
    template <typename A>
    __device__ A operator()(A a, A b) const
    {
        return a * b;
    }
    template <typename A>
    __device__ static A identity()
    {
        return A(1);
    }
};

//! x seen as (outer, length, inner) at the scanned axis.
struct ScanGeometry
{
    int64_t outer{1};
    int64_t length{1};
    int64_t inner{1};
};

//! Splits `shape` at the axis stored in device memory (negative: from the end); false when the
//! axis is out of range.
__device__ bool splitAt(TensorShape const& shape, void const* axis, bool axis64, ScanGeometry& g)
{
    int64_t a = axis64 ? static_cast<int64_t>(__ldg(static_cast<long long const*>(axis)))
                       : static_cast<int64_t>(__ldg(static_cast<int const*>(axis)));
    a = a < 0 ? a + shape.rank : a;
    if (a < 0 || a >= shape.rank)
    {
        return false;
    }
#pragma unroll
    for (int32_t d = 0; d < TensorShape::kMaxRank; ++d) // unrolled: shape.d stays out of local memory
    {
        int64_t const extent = d < shape.rank ? shape.d[d] : 1;
        g.outer *= d < a ? extent : 1;
        g.length = d == a ? extent : g.length;
        g.inner *= d > a ? extent : 1;
    }
    return true;
}

//! One warp scans one contiguous row in tiles of kTile elements.
template <typename T, typename Op>
struct WarpRowScan
{
    using Acc = typename ScanType<T>::Acc;
    static constexpr int kItems = sizeof(T) > 4 ? kLaneItems / 2 : kLaneItems;
    static constexpr int kTile = kWarp * kItems;
    static constexpr int kStage = kTile + kItems; //!< one padding slot per 32 elements: no bank conflicts

    __device__ static int slot(int i) { return i + i / kWarp; }

    //! Tile elements [0, count) in logical (scan) order between global memory and the stage,
    //! element i at lane i % 32: each access of the warp touches consecutive addresses.
    __device__ static void stageIn(
        T const* x, int64_t length, int64_t tile, int count, bool reverse, T* stage, int lane)
    {
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const i = k * kWarp + lane;
            int64_t const j = tile + i;
            if (i < count)
            {
                stage[slot(i)] = x[reverse ? length - 1 - j : j];
            }
        }
    }

    __device__ static void stageOut(
        T* y, int64_t length, int64_t tile, int count, bool reverse, T const* stage, int lane)
    {
#pragma unroll
        for (int k = 0; k < kItems; ++k)
        {
            int const i = k * kWarp + lane;
            int64_t const j = tile + i;
            if (i < count)
            {
                y[reverse ? length - 1 - j : j] = stage[slot(i)];
            }
        }
    }

    //! Inclusive scan of `total` over the warp's lanes (Hillis-Steele, in lane order).
    __device__ static Acc warpInclusive(Acc total, int lane)
    {
#pragma unroll
        for (int offset = 1; offset < kWarp; offset <<= 1)
        {
            Acc const before = __shfl_up_sync(kFullMask, total, offset);
            total = lane >= offset ? Op()(before, total) : total;
        }
        return total;
    }

    //! Scans logical elements [from, to) of a row of `length` (reversed rows are read from the
    //! end), `carry` being the scan of everything before `from`.
    __device__ static void row(T const* x, T* y, int64_t length, int64_t from, int64_t to, Acc carry,
        ScanOptions const& o, T* stage, int lane)
    {
        for (int64_t tile = from; tile < to; tile += kTile)
        {
            int const count = static_cast<int>(to - tile < kTile ? to - tile : kTile);
            stageIn(x, length, tile, count, o.reverse, stage, lane);
            __syncwarp();
            Acc v[kItems]; // lane-local inclusive run over elements lane * kItems + k
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                int const i = lane * kItems + k;
                v[k] = i < count ? ScanType<T>::widen(stage[slot(i)]) : Op::template identity<Acc>();
                v[k] = k > 0 ? Op()(v[k - 1], v[k]) : v[k];
            }
            Acc const inclusive = warpInclusive(v[kItems - 1], lane);
            Acc const before = __shfl_up_sync(kFullMask, inclusive, 1);
            Acc const prefix = lane == 0 ? carry : Op()(carry, before);
            carry = Op()(carry, __shfl_sync(kFullMask, inclusive, kWarp - 1));
            __syncwarp(); // every lane has read the tile before it is overwritten
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                int const i = lane * kItems + k;
                Acc const out = o.exclusive ? (k == 0 ? prefix : Op()(prefix, v[k - 1])) : Op()(prefix, v[k]);
                if (i < count)
                {
                    stage[slot(i)] = ScanType<T>::narrow(out);
                }
            }
            __syncwarp();
            stageOut(y, length, tile, count, o.reverse, stage, lane);
            __syncwarp(); // stored before the next tile is staged
        }
    }

    //! Op over logical elements [from, to) of a row, the result in every lane (coalesced loads;
    //! floats combine in another order than the scan's, which rounding tolerates).
    __device__ static Acc reduce(T const* x, int64_t length, int64_t from, int64_t to, bool reverse, int lane)
    {
        Acc acc = Op::template identity<Acc>();
        for (int64_t tile = from; tile < to; tile += kTile)
        {
            Acc v[kItems];
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                int64_t const j = tile + k * kWarp + lane;
                v[k] = j < to ? ScanType<T>::widen(x[reverse ? length - 1 - j : j]) : Op::template identity<Acc>();
            }
#pragma unroll
            for (int k = 0; k < kItems; ++k)
            {
                acc = Op()(acc, v[k]);
            }
        }
#pragma unroll
        for (int offset = kWarp / 2; offset > 0; offset >>= 1)
        {
            acc = Op()(acc, __shfl_xor_sync(kFullMask, acc, offset));
        }
        return acc;
    }
};

//! Few long rows (one warp per row would leave most of the GPU idle): a block per row, its 8 warps
//! each taking one segment of the row; each warp reduces its segment, the block shares the totals
//! through `totals` (kWarpsPerBlock accumulators), and each warp scans its segment from the total
//! of the segments before it. Reads x twice: 1.5x a copy's traffic, 8x the parallelism per row.
template <typename T, typename Op>
__device__ void scanRowSegments(T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, T* stage,
    typename ScanType<T>::Acc* totals)
{
    using Row = WarpRowScan<T, Op>;
    using Acc = typename ScanType<T>::Acc;
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const segment = static_cast<int>(threadIdx.x / kWarp);
    int64_t const segmentLength = (g.length + kWarpsPerBlock - 1) / kWarpsPerBlock;
    int64_t const from = segment * segmentLength < g.length ? segment * segmentLength : g.length;
    int64_t const to = from + segmentLength < g.length ? from + segmentLength : g.length;
    // The loop bound is the same for the whole block: every thread reaches each __syncthreads.
    for (int64_t r = blockIdx.x; r < g.outer; r += gridDim.x)
    {
        T const* row = x + r * g.length;
        Acc const total = Row::reduce(row, g.length, from, to, o.reverse, lane);
        if (lane == 0)
        {
            totals[segment] = total;
        }
        __syncthreads();
        Acc carry = Op::template identity<Acc>();
        for (int s = 0; s < segment; ++s)
        {
            carry = Op()(carry, totals[s]);
        }
        Row::row(row, y + r * g.length, g.length, from, to, carry, o, stage, lane);
        __syncthreads(); // totals are read before the next row writes them
    }
}

//! Walks along one column from element `from` to `to` (logical order) starting from the running
//! value `acc`, kUnroll loads in flight before their dependent accumulations; returns the new acc.
//! `start` is the column's first element in scan order, `step` the signed distance between two.
template <typename T, typename Op, bool kWrite>
__device__ typename ScanType<T>::Acc walkColumn(T const* x, T* y, int64_t start, int64_t step, int64_t from,
    int64_t to, typename ScanType<T>::Acc acc, bool exclusive)
{
    using Acc = typename ScanType<T>::Acc;
    constexpr int kUnroll = sizeof(T) > 4 ? kColumnUnroll / 2 : kColumnUnroll;
    for (int64_t j0 = from; j0 < to; j0 += kUnroll)
    {
        Acc v[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            v[u] = j0 + u < to ? ScanType<T>::widen(x[start + (j0 + u) * step]) : Op::template identity<Acc>();
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            Acc const next = Op()(acc, v[u]);
            if (kWrite && j0 + u < to)
            {
                y[start + (j0 + u) * step] = ScanType<T>::narrow(exclusive ? acc : next);
            }
            acc = next;
        }
    }
    return acc;
}

//! Column c's first element in scan order (its last one when reversed).
__device__ int64_t columnStart(ScanGeometry const& g, int64_t c, bool reverse)
{
    int64_t const outer = c / g.inner;
    return outer * g.length * g.inner + (c - outer * g.inner) + (reverse ? (g.length - 1) * g.inner : 0);
}

//! One thread per (outer, inner) column, columns `first`, `first + stride`, ...
template <typename T, typename Op>
__device__ void scanColumns(
    T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, int64_t first, int64_t stride)
{
    int64_t const columns = g.outer * g.inner;
    int64_t const step = o.reverse ? -g.inner : g.inner;
    for (int64_t c = first; c < columns; c += stride)
    {
        using Acc = typename ScanType<T>::Acc;
        walkColumn<T, Op, true>(
            x, y, columnStart(g, c, o.reverse), step, 0, g.length, Op::template identity<Acc>(), o.exclusive);
    }
}

//! Few long columns (the plain column path would leave most of the GPU idle): a block takes 32
//! neighbouring columns (its lanes, coalesced) and splits their length into kWarpsPerBlock
//! segments (its warps). Each warp reduces its segment, the block shares the segment totals
//! through `totals` (kWarpsPerBlock x 32 accumulators), and each warp walks its segment again from
//! the total of the segments before it. Reads x twice: 1.5x a copy's traffic, 8x the parallelism.
template <typename T, typename Op>
__device__ void scanColumnSegments(
    T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, typename ScanType<T>::Acc* totals)
{
    using Acc = typename ScanType<T>::Acc;
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const segment = static_cast<int>(threadIdx.x / kWarp);
    int64_t const columns = g.outer * g.inner;
    int64_t const segmentLength = (g.length + kWarpsPerBlock - 1) / kWarpsPerBlock;
    int64_t const from = segment * segmentLength < g.length ? segment * segmentLength : g.length;
    int64_t const to = from + segmentLength < g.length ? from + segmentLength : g.length;
    int64_t const step = o.reverse ? -g.inner : g.inner;
    // The loop bound is the same for the whole block: every thread reaches each __syncthreads.
    for (int64_t group = blockIdx.x; group * kWarp < columns; group += gridDim.x)
    {
        int64_t const c = group * kWarp + lane;
        bool const active = c < columns;
        int64_t const start = active ? columnStart(g, c, o.reverse) : 0;
        Acc acc = Op::template identity<Acc>();
        if (active)
        {
            acc = walkColumn<T, Op, false>(x, y, start, step, from, to, acc, o.exclusive);
        }
        totals[segment * kWarp + lane] = acc;
        __syncthreads();
        acc = Op::template identity<Acc>();
        for (int s = 0; s < segment; ++s)
        {
            acc = Op()(acc, totals[s * kWarp + lane]);
        }
        if (active)
        {
            walkColumn<T, Op, true>(x, y, start, step, from, to, acc, o.exclusive);
        }
        __syncthreads(); // totals are read before the next group writes them
    }
}

template <typename T, typename Op>
__global__ void __launch_bounds__(kBlockThreads, std::is_same<T, float>::value ? kMinBlocksPerSm : kMinBlocksPerSm - 1)
    cumulativeKernel(T const* x, T* y, int64_t n, TensorShape shape, void const* axis, bool axis64, ScanOptions o)
{
    using Row = WarpRowScan<T, Op>;
    using Acc = typename ScanType<T>::Acc;
    static_assert(Row::kStage * sizeof(T) >= kWarp * sizeof(Acc), "column segment totals fit the stage");
    __shared__ alignas(16) unsigned char staged[kWarpsPerBlock * Row::kStage * sizeof(T)];
    __shared__ Acc segmentTotals[kWarpsPerBlock]; // row segments' (the stage holds their tiles)
    int64_t const thread = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    int64_t const threads = static_cast<int64_t>(gridDim.x) * blockDim.x;
    ScanGeometry g;
    if (!splitAt(shape, axis, axis64, g))
    {
        for (int64_t e = thread; e < n; e += threads)
        {
            y[e] = ScanType<T>::invalid();
        }
        return;
    }
    T* stage = reinterpret_cast<T*>(staged) + (threadIdx.x / kWarp) * Row::kStage;
    if (g.inner == 1 && g.length >= kWarpsPerBlock * Row::kTile && g.outer <= gridDim.x)
    {
        scanRowSegments<T, Op>(x, y, g, o, stage, segmentTotals);
        return;
    }
    if (g.inner == 1 && g.length >= kRowMin)
    {
        // Whole warps take whole rows: `thread / kWarp` is the same for a warp's 32 lanes.
        for (int64_t r = thread / kWarp; r < g.outer; r += threads / kWarp)
        {
            Row::row(x + r * g.length, y + r * g.length, g.length, 0, g.length, Op::template identity<Acc>(), o, stage,
                static_cast<int>(threadIdx.x % kWarp));
        }
        return;
    }
    if (g.outer * g.inner < kSegmentedBelowColumns && g.length >= kSegmentedMinLength)
    {
        scanColumnSegments<T, Op>(x, y, g, o, reinterpret_cast<Acc*>(staged));
        return;
    }
    scanColumns<T, Op>(x, y, g, o, thread, threads);
}

template <typename T, typename Op>
cudaError_t launchTyped(ScanOptions const& o, void const* x, TensorShape const& shape, void const* axis,
    bool axis64, void* y, cudaStream_t stream) noexcept
{
    int64_t const n = shape.volume();
    cumulativeKernel<T, Op><<<gridFor(n), kBlockThreads, 0, stream>>>(
        static_cast<T const*>(x), static_cast<T*>(y), n, shape, axis, axis64, o);
    return cudaGetLastError();
}

} // namespace

cudaError_t launchCumulative(ScanOptions const& options, DType dtype, void const* x, TensorShape const& shape,
    void const* axis, DType axisType, void* y, cudaStream_t stream) noexcept
{
    if (shape.rank < 1 || shape.rank > TensorShape::kMaxRank
        || (axisType != DType::kINT32 && axisType != DType::kINT64))
    {
        return cudaErrorInvalidValue;
    }
    if (shape.volume() == 0)
    {
        return cudaSuccess; // nothing to write; the axis is not even read
    }
    bool const axis64 = axisType == DType::kINT64;
    auto launch = [&](auto element) -> cudaError_t {
        using T = decltype(element);
        return options.op == ScanOp::kProd ? launchTyped<T, ProdOp>(options, x, shape, axis, axis64, y, stream)
                                           : launchTyped<T, SumOp>(options, x, shape, axis, axis64, y, stream);
    };
    switch (dtype)
    {
    case DType::kINT32: return launch(int32_t{});
    case DType::kINT64: return launch(int64_t{});
    default: return forFloatOrBf16Type(dtype, launch);
    }
}

} // namespace trtplug
