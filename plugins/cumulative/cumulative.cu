// CumSum / CumProd kernels. The axis is read on the device (its value never reaches the host), so
// one kernel takes any axis: it splits x into (outer, length, inner) at that axis and picks
//  - rows (inner == 1, length >= kRowMin): one warp per row in tiles of 32 bytes per lane. A whole
//    tile on 16 bytes moves as two 16-byte vectors per lane (a warp's 512 contiguous bytes per
//    access), each lane scanning its vector's consecutive elements; other tiles are staged through
//    shared memory so that their 1-element accesses stay coalesced. A warp scan of the lane totals
//    and the carry of the earlier tiles give each element its prefix;
//  - columns (any other axis, and short rows): one thread per (outer, inner) pair walking the
//    axis with a stride of `inner`; neighbouring threads read neighbouring addresses, and
//    kColumnUnroll loads are issued before their dependent accumulations;
//  - windowed columns (fewer than kSegmentedBelowColumns columns of kSegmentedMinLength or more):
//    a block per 32 columns walks down them in windows of rows held in registers, a slice of the
//    window per warp, x read once (column_scan.cuh);
//  - segmented columns (the same columns when the windowed path is off): as columns, with each
//    column's length split over a block's 8 warps, reduce then scan;
//  - chunked rows (few rows, each 8 tiles or longer: a 1-D x above all): a warp per chunk of 4
//    tiles, reduce then scan over three launches (chunked_row_scan.cuh);
//  - segmented rows (the same rows when the chunked path is off, or x and y alias): a block per
//    row, its 8 warps reduce a segment each, then scan it from the totals of the segments before.
// A 1-D x (the host knows its geometry: any valid axis is 0) given a workspace takes none of these:
// a one-pass decoupled look-back scan over tiles of 16 KiB (lookback_scan.cuh).
// Rows, columns and the 1-D scan read and write each element once (the traffic of a copy); the
// segmented and chunked paths read x twice.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "cumulative/chunked_row_scan.cuh"
#include "cumulative/column_scan.cuh"
#include "cumulative/cumulative.h"
#include "cumulative/lookback_scan.cuh"
#include "cumulative/row_scan.cuh"
#include "cumulative/scan_types.cuh"

#include <cstdint>
#include <type_traits>

namespace trtplug
{
namespace
{

using namespace cumulative_detail;

//! The one-pass scan's workspace for x of `shape` (0 where it does not run: rank above 1, empty x;
//! the 8-byte accumulator of int64 takes two status words per tile).
size_t workspaceBytesFor(size_t elementBytes, TensorShape const& shape) noexcept
{
    int64_t const n = shape.volume();
    return kLookbackScan && shape.rank == 1 && n > 0 && elementBytes > 0
        ? lookbackWorkspaceBytes(n, elementBytes, elementBytes == 8 ? 8 : 4)
        : 0;
}

template <typename T, typename Op>
__global__ void __launch_bounds__(kBlockThreads, minBlocksPerSm<T>())
    cumulativeKernel(T const* x, T* y, int64_t n, TensorShape shape, void const* axis, bool axis64, ScanOptions o,
        ChunkPlan plan)
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
    if (takesChunkedRows<T>(g, plan))
    {
        scanRowChunks<T, Op>(x, y, g, o, stage); // after launchChunkPasses' two passes
        return;
    }
    if (g.inner == 1 && g.length >= kWarpsPerBlock * Row::kTile && g.outer * kSegmentedRowsPerBlocks <= gridDim.x)
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
        if (kWindowedColumns)
        {
            scanColumnWindows<T, Op>(x, y, g, o, reinterpret_cast<Acc*>(staged));
        }
        else
        {
            scanColumnSegments<T, Op>(x, y, g, o, reinterpret_cast<Acc*>(staged));
        }
        return;
    }
    scanColumns<T, Op>(x, y, g, o, thread, threads);
}

template <typename T, typename Op>
cudaError_t launchTyped(ScanOptions const& o, void const* x, TensorShape const& shape, void const* axis,
    bool axis64, void* y, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept
{
    int64_t const n = shape.volume();
    size_t const needed = workspaceBytesFor(sizeof(T), shape);
    if (needed > 0 && workspace != nullptr && workspaceBytes >= needed) // else the paths below, which need none
    {
        return launchLookbackScan<T, Op>(
            static_cast<T const*>(x), static_cast<T*>(y), n, axis, axis64, o, workspace, stream);
    }
    ChunkPlan const plan = chunkPlan<T>(x, y, shape);
    cudaError_t const queued = launchChunkPasses<T, Op>(
        static_cast<T const*>(x), static_cast<T*>(y), shape, axis, axis64, o, plan, stream);
    if (queued != cudaSuccess)
    {
        return queued;
    }
    cumulativeKernel<T, Op><<<static_cast<int>(plan.blocks), kBlockThreads, 0, stream>>>(
        static_cast<T const*>(x), static_cast<T*>(y), n, shape, axis, axis64, o, plan);
    return cudaGetLastError();
}

} // namespace

size_t cumulativeWorkspaceBytes(DType dtype, TensorShape const& shape) noexcept
{
    bool const scanned = isFloatDType(dtype) || dtype == DType::kINT32 || dtype == DType::kINT64;
    return scanned ? workspaceBytesFor(dtypeSize(dtype), shape) : 0;
}

cudaError_t launchCumulative(ScanOptions const& options, DType dtype, void const* x, TensorShape const& shape,
    void const* axis, DType axisType, void* y, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept
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
        return options.op == ScanOp::kProd
            ? launchTyped<T, ProdOp>(options, x, shape, axis, axis64, y, workspace, workspaceBytes, stream)
            : launchTyped<T, SumOp>(options, x, shape, axis, axis64, y, workspace, workspaceBytes, stream);
    };
    switch (dtype)
    {
    case DType::kINT32: return launch(int32_t{});
    case DType::kINT64: return launch(int64_t{});
    default: return forFloatOrBf16Type(dtype, launch);
    }
}

} // namespace trtplug
