// A 1-D x scanned in one pass (decoupled look-back, Merrill & Garland 2016): x read once and y
// written once, where the chunked row path (chunked_row_scan.cuh) reads x twice over three
// launches. A block per tile of 16 KiB (kLaneVectors 16-byte vectors per lane); tiles are taken in
// start order from a counter, so a tile only ever waits for tiles already running (no deadlock,
// whatever order the blocks are scheduled in). Each block
//  1. loads its tile, a warp per segment (whole tiles as vectors held in registers; a short first
//     or last tile, or any tile when x and y lie differently against 16 bytes, through the warp
//     row scan's reduce, then its staged scan in step 3), and reduces it;
//  2. publishes that aggregate, then warp 0 looks back over the tiles before it, 32 at a time,
//     combining aggregates until it meets an inclusive prefix, and publishes its own;
//  3. scans the held vectors from that prefix (WarpRowScan::scanRuns) and stores them.
// The tile status lives in the workspace, zeroed per launch (TensorRT's workspace holds anything).
// The host knows the addresses, so it places the tiles such that whole tiles start on 16 bytes in
// x and y, forwards and reversed (a short first tile takes the head). Each element is read, then
// written, by one warp: x and y may be the same array.
#pragma once

#include "cumulative/row_scan.cuh"
#include "cumulative/scan_types.cuh"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace trtplug
{
namespace cumulative_detail
{

//! The switch back to the chunked row path for a 1-D x: false, and nothing else.
constexpr bool kLookbackScan = true;
constexpr int kLaneVectors = 4; //!< 16-byte vectors per lane and tile: 16 KiB tiles in every type
constexpr int64_t kLookbackTileBytes = int64_t{kBlockThreads} * kLaneVectors * 16;
constexpr size_t kStatusOffset = 16; //!< the workspace: the tile counter, then the tile status words

//! 64-bit status words per tile: each carries the tile's flag beside 32 bits of its value, so one
//! relaxed load sees both (a 64-bit accumulator takes two words).
constexpr int statusWords(size_t accBytes)
{
    return static_cast<int>(accBytes / 4);
}

//! The counter and the status of `tiles` tiles: what a launch zeroes.
inline size_t statusBytes(int64_t tiles, size_t accBytes)
{
    return kStatusOffset + static_cast<size_t>(tiles) * statusWords(accBytes) * sizeof(unsigned long long);
}

//! Workspace bytes for a 1-D x of n elements (the head can add a tile, the remainder another).
inline size_t lookbackWorkspaceBytes(int64_t n, size_t elementBytes, size_t accBytes)
{
    return statusBytes(n * static_cast<int64_t>(elementBytes) / kLookbackTileBytes + 2, accBytes);
}

//! Tile k holds logical (scan-order) elements [k * tile - head, (k + 1) * tile - head) of [0, n).
struct LookbackPlan
{
    int64_t n{0};
    int64_t head{0}; //!< the first tile's shortfall: whole tiles then start on 16 bytes
    int64_t tiles{0};
    bool vectors{false}; //!< x and y agree modulo 16 bytes: whole tiles move as vectors
};

template <typename T>
__host__ __device__ constexpr int64_t lookbackTile()
{
    return kLookbackTileBytes / static_cast<int64_t>(sizeof(T));
}

template <typename T>
inline LookbackPlan lookbackPlan(void const* x, void const* y, int64_t n, bool reverse)
{
    constexpr int64_t kItems = 16 / sizeof(T);
    int64_t const mx = static_cast<int64_t>(reinterpret_cast<uintptr_t>(x) / sizeof(T) % kItems);
    int64_t const my = static_cast<int64_t>(reinterpret_cast<uintptr_t>(y) / sizeof(T) % kItems);
    LookbackPlan p;
    p.n = n;
    p.vectors = kVectorRows && mx == my;
    // Forwards, logical element j is x[j]; reversed, x[n - 1 - j]: a whole tile then starts on 16 bytes.
    p.head = !p.vectors ? 0 : reverse ? (kItems - (mx + n) % kItems) % kItems : mx;
    p.tiles = (n + p.head + lookbackTile<T>() - 1) / lookbackTile<T>();
    return p;
}

enum : unsigned
{
    kEmpty = 0,
    kAggregate = 1, //!< the tile's own total
    kInclusive = 2, //!< the total of every tile up to and including it
};

__device__ inline void storeRelaxed(unsigned long long* p, unsigned long long v)
{
    asm volatile("st.relaxed.gpu.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

__device__ inline unsigned long long loadRelaxed(unsigned long long const* p)
{
    unsigned long long v;
    asm volatile("ld.relaxed.gpu.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}

template <typename T, typename Op>
struct LookbackScan
{
    using Row = WarpRowScan<T, Op>;
    using Acc = typename ScanType<T>::Acc;
    using Vector = typename Row::Vector;
    static constexpr int kWarpItems = kWarp * kLaneVectors * Row::kVectorItems;
    static constexpr int kWords = statusWords(sizeof(Acc));
    static_assert(kWarpsPerBlock * kWarpItems == lookbackTile<T>(), "a tile is a block's vectors");

    __device__ static Acc identity() { return Op::template identity<Acc>(); }

    __device__ static Acc warpReduce(Acc a)
    {
#pragma unroll
        for (int offset = kWarp / 2; offset > 0; offset >>= 1)
        {
            a = Op()(a, __shfl_xor_sync(kFullMask, a, offset));
        }
        return a;
    }

    __device__ static void publish(unsigned long long* status, int64_t tile, unsigned flag, Acc a)
    {
        unsigned bits[kWords];
        memcpy(bits, &a, sizeof(Acc));
#pragma unroll
        for (int k = 0; k < kWords; ++k)
        {
            storeRelaxed(status + tile * kWords + k, static_cast<unsigned long long>(flag) << 32 | bits[k]);
        }
    }

    //! The tile's flag and value: kEmpty until all its words carry one flag (a two-word value is
    //! stored word by word, so a reader may see one word's update before the other's).
    __device__ static unsigned peek(unsigned long long const* status, int64_t tile, Acc& a)
    {
        unsigned long long w[kWords];
#pragma unroll
        for (int k = 0; k < kWords; ++k)
        {
            w[k] = loadRelaxed(status + tile * kWords + k);
        }
        unsigned flag = static_cast<unsigned>(w[0] >> 32);
        unsigned bits[kWords];
#pragma unroll
        for (int k = 0; k < kWords; ++k)
        {
            flag = static_cast<unsigned>(w[k] >> 32) == flag ? flag : kEmpty;
            bits[k] = static_cast<unsigned>(w[k]);
        }
        memcpy(&a, bits, sizeof(Acc));
        return flag;
    }

    //! Warp 0's look-back: the scan of every tile before `tile` (> 0). Lane l reads tile
    //! `last - l` of each window; the nearest inclusive prefix ends the walk.
    __device__ static Acc lookBack(unsigned long long const* status, int64_t tile, int lane)
    {
        Acc exclusive = identity();
        for (int64_t last = tile - 1;; last -= kWarp) // the same for the whole warp
        {
            int64_t const p = last - lane;
            Acc v = identity();
            unsigned flag = kInclusive; // before tile 0: nothing
            do
            {
                flag = p >= 0 ? peek(status, p, v) : flag;
            } while (__any_sync(kFullMask, flag == kEmpty));
            unsigned const inclusive = __ballot_sync(kFullMask, flag == kInclusive);
            int const nearest = inclusive != 0 ? __ffs(inclusive) - 1 : kWarp;
            exclusive = Op()(warpReduce(lane <= nearest ? v : identity()), exclusive);
            if (inclusive != 0)
            {
                return exclusive;
            }
        }
    }

    __device__ static int vectorAt(bool reverse, int j, int lane)
    {
        int const logical = j * kWarp + lane;
        return reverse ? kLaneVectors * kWarp - 1 - logical : logical;
    }

    //! The lowest physical element of the whole warp segment starting at logical `from`.
    __device__ static int64_t segmentBase(int64_t n, int64_t from, bool reverse)
    {
        return reverse ? n - from - kWarpItems : from;
    }

    //! Loads a whole warp segment (16-byte vectors, all issued before any is used); returns its total.
    __device__ static Acc loadVectors(
        T const* x, int64_t n, int64_t from, bool reverse, int lane, Vector (&run)[kLaneVectors])
    {
        Vector const* in = reinterpret_cast<Vector const*>(x + segmentBase(n, from, reverse));
#pragma unroll
        for (int j = 0; j < kLaneVectors; ++j)
        {
            run[j] = in[vectorAt(reverse, j, lane)];
        }
        Acc total = identity();
#pragma unroll
        for (int j = 0; j < kLaneVectors; ++j)
        {
#pragma unroll
            for (int k = 0; k < Row::kVectorItems; ++k)
            {
                total = Op()(total, ScanType<T>::widen(run[j].v[k]));
            }
        }
        return warpReduce(total);
    }

    //! Scans the held segment from `carry` (the scan of everything before it) and stores it.
    __device__ static void scanVectors(
        T* y, int64_t n, int64_t from, Acc carry, ScanOptions const& o, int lane, Vector (&run)[kLaneVectors])
    {
#pragma unroll
        for (int j = 0; j < kLaneVectors; ++j)
        {
            Acc v[Row::kVectorItems];
            Row::widenRun(run[j], o.reverse, v);
            carry = Row::scanRuns(v, carry, o.exclusive, lane);
            Row::narrowRun(v, o.reverse, run[j]);
        }
        Vector* out = reinterpret_cast<Vector*>(y + segmentBase(n, from, o.reverse));
#pragma unroll
        for (int j = 0; j < kLaneVectors; ++j)
        {
            out[vectorAt(o.reverse, j, lane)] = run[j];
        }
    }

    //! Warp 0 after the warp totals: the tile's aggregate published, the prefix looked back for.
    __device__ static Acc tilePrefix(
        unsigned long long* status, int64_t tile, bool alone, Acc const* warpTotals, int lane)
    {
        Acc aggregate = identity();
#pragma unroll
        for (int w = 0; w < kWarpsPerBlock; ++w)
        {
            aggregate = Op()(aggregate, warpTotals[w]);
        }
        if (alone)
        {
            return identity(); // one tile: no status to share
        }
        if (tile == 0)
        {
            if (lane == 0)
            {
                publish(status, tile, kInclusive, aggregate);
            }
            return identity();
        }
        if (lane == 0)
        {
            publish(status, tile, kAggregate, aggregate);
        }
        Acc const prefix = lookBack(status, tile, lane);
        if (lane == 0)
        {
            publish(status, tile, kInclusive, Op()(prefix, aggregate));
        }
        return prefix;
    }
};

//! The logical range [from, to) of a tile, and of warp segments in it (clipped to the tile).
template <typename T>
struct TileSpan
{
    int64_t start; //!< where the tile would start were it whole (the first tile's head is missing)
    int64_t from;
    int64_t to;

    __device__ TileSpan(LookbackPlan const& plan, int64_t tile)
        : start(tile * lookbackTile<T>() - plan.head)
        , from(start > 0 ? start : 0)
        , to(start + lookbackTile<T>() < plan.n ? start + lookbackTile<T>() : plan.n)
    {
    }
    __device__ bool whole() const { return to - from == lookbackTile<T>(); }
    __device__ int64_t clip(int64_t i) const { return i < from ? from : i < to ? i : to; }
};

//! Thread 0 takes the block's tile (in start order) and reads the axis: a 1-D x takes 0 or -1.
__device__ inline void beginTile(
    unsigned* counter, bool alone, void const* axis, bool axis64, int64_t& tile, bool& valid)
{
    if (threadIdx.x == 0)
    {
        int64_t const a = axis64 ? static_cast<int64_t>(__ldg(static_cast<long long const*>(axis)))
                                 : static_cast<int64_t>(__ldg(static_cast<int const*>(axis)));
        tile = alone ? 0 : static_cast<int64_t>(atomicAdd(counter, 1u));
        valid = a == 0 || a == -1;
    }
    __syncthreads();
}

template <typename T>
__device__ void poisonTile(T* y, int64_t n, int64_t from, int64_t to, bool reverse)
{
    int64_t const low = reverse ? n - to : from;
    for (int64_t e = low + threadIdx.x; e < low + (to - from); e += blockDim.x)
    {
        y[e] = ScanType<T>::invalid();
    }
}

//! Blocks per SM without spills (ptxas -v): 5 (48 registers), bf16 4 (its conversions take more):
//! the more tiles in flight, the more of a block's look-back wait the others' loads cover.
template <typename T>
constexpr int lookbackBlocksPerSm()
{
    return std::is_same<T, __nv_bfloat16>::value ? 4 : 5;
}

template <typename T, typename Op>
__global__ void __launch_bounds__(kBlockThreads, lookbackBlocksPerSm<T>()) lookbackScanKernel(
    T const* x, T* y, LookbackPlan plan, void const* axis, bool axis64, ScanOptions o, void* workspace)
{
    using Scan = LookbackScan<T, Op>;
    using Acc = typename Scan::Acc;
    __shared__ alignas(16) unsigned char staged[kWarpsPerBlock * Scan::Row::kStage * sizeof(T)];
    __shared__ Acc warpTotals[kWarpsPerBlock];
    __shared__ Acc prefix;
    __shared__ int64_t tile;
    __shared__ bool valid;
    auto* const status = reinterpret_cast<unsigned long long*>(static_cast<unsigned char*>(workspace) + kStatusOffset);
    bool const alone = plan.tiles == 1;
    beginTile(static_cast<unsigned*>(workspace), alone, axis, axis64, tile, valid);
    TileSpan<T> const span(plan, tile);
    if (!valid)
    {
        poisonTile(y, plan.n, span.from, span.to, o.reverse);
        return;
    }
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const warp = static_cast<int>(threadIdx.x / kWarp);
    // The same choice for the whole block: whole tiles as vectors, the others through the stage.
    bool const vectors = plan.vectors && span.whole();
    int64_t const segment = span.start + int64_t{warp} * Scan::kWarpItems;
    int64_t const segFrom = span.clip(segment);
    int64_t const segTo = span.clip(segment + Scan::kWarpItems);
    typename Scan::Vector run[kLaneVectors];
    Acc const total = vectors ? Scan::loadVectors(x, plan.n, segFrom, o.reverse, lane, run)
                              : Scan::Row::reduce(x, plan.n, segFrom, segTo, o.reverse, lane);
    if (lane == 0)
    {
        warpTotals[warp] = total;
    }
    __syncthreads();
    if (warp == 0)
    {
        Acc const p = Scan::tilePrefix(status, tile, alone, warpTotals, lane);
        if (lane == 0)
        {
            prefix = p;
        }
    }
    __syncthreads();
    Acc carry = prefix;
    for (int w = 0; w < warp; ++w)
    {
        carry = Op()(carry, warpTotals[w]);
    }
    if (vectors)
    {
        Scan::scanVectors(y, plan.n, segFrom, carry, o, lane, run);
    }
    else
    {
        T* const stage = reinterpret_cast<T*>(staged) + warp * Scan::Row::kStage;
        Scan::Row::template row<false>(x, y, plan.n, segFrom, segTo, carry, o, stage, lane);
    }
}

//! The one-pass scan of a 1-D x of n > 0 elements; `workspace` holds lookbackWorkspaceBytes.
template <typename T, typename Op>
cudaError_t launchLookbackScan(T const* x, T* y, int64_t n, void const* axis, bool axis64, ScanOptions const& o,
    void* workspace, cudaStream_t stream)
{
    using Acc = typename ScanType<T>::Acc;
    LookbackPlan const plan = lookbackPlan<T>(x, y, n, o.reverse);
    if (plan.tiles > 1) // one tile neither counts nor publishes
    {
        cudaError_t const err = cudaMemsetAsync(workspace, 0, statusBytes(plan.tiles, sizeof(Acc)), stream);
        if (err != cudaSuccess)
        {
            return err;
        }
    }
    lookbackScanKernel<T, Op>
        <<<static_cast<unsigned>(plan.tiles), kBlockThreads, 0, stream>>>(x, y, plan, axis, axis64, o, workspace);
    return cudaGetLastError();
}

} // namespace cumulative_detail
} // namespace trtplug
