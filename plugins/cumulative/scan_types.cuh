// CumSum / CumProd kernel building blocks: launch constants, the accumulator of each element
// type, the scan operators and the split of x at the scanned axis. Included only from .cu files.
#pragma once

#include "common/launch.cuh"
#include "common/tensor_shape.h"

#include <cstdint>
#include <type_traits>

namespace trtplug
{
namespace cumulative_detail
{

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpsPerBlock = kBlockThreads / kWarp;
//! Whole row tiles on 16 bytes move as 16-byte vectors, a warp's 512 contiguous bytes per access,
//! without the shared-memory stage (row_scan.cuh: WarpRowScan::tileVectors). The switch back to
//! staging every tile: false, and nothing else.
constexpr bool kVectorRows = true;
//! Blocks per SM the main kernel's registers allow without spills (ptxas -v): 4 (64 registers)
//! for fp32 and the 2-byte types, 3 (85) for the 32- and 64-bit integers: the occupancy that keeps
//! enough loads in flight for the device's bandwidth.
template <typename T>
constexpr int minBlocksPerSm()
{
    return std::is_same<T, float>::value || sizeof(T) == 2 ? 4 : 3;
}
constexpr int kRowMin = 128;     //!< shorter rows go to the column path (a warp would idle)
constexpr int kColumnUnroll = 8; //!< loads in flight per column thread (4 for int64: no spills)
//! fp16/bf16 plain columns walked two per thread as 4-byte words (column_scan.cuh). The switch
//! back to one column per thread: false, and nothing else.
constexpr bool kColumnPairs = true;
constexpr int64_t kSegmentedBelowColumns = 65536; //!< fewer columns than this: ~16 warps per SM or less
constexpr int64_t kSegmentedMinLength = 64;
//! Those few long columns walked in windows held in registers, x read once (scanColumnWindows).
//! The switch back to the segmented walk that reads x twice (scanColumnSegments): false.
constexpr bool kWindowedColumns = true;
//! Rows no more than blocks / this (gridFor: blocks <= 32 per SM, so one warp per row would give 8
//! warps per SM or fewer) are split over a block's warps.
constexpr int64_t kSegmentedRowsPerBlocks = 4;

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
__device__ inline bool splitAt(TensorShape const& shape, void const* axis, bool axis64, ScanGeometry& g)
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

} // namespace cumulative_detail
} // namespace trtplug
