// The one-pass 1-D scan's tile status (lookback_scan.cuh): in the workspace, a counter that hands
// out tiles in start order, then per tile 64-bit words that each carry the tile's flag (empty,
// aggregate, inclusive prefix) beside 32 bits of its value, so a relaxed load sees flag and value
// together and no fence is needed. Zeroed by a memset per launch: TensorRT's workspace holds
// anything. Warp 0 of each block looks back over the statuses of the tiles before its own.
#pragma once

#include "cumulative/scan_types.cuh"

#include <cstdint>
#include <cstring>

namespace trtplug
{
namespace cumulative_detail
{

constexpr size_t kStatusOffset = 16; //!< the workspace: the tile counter, then the tile status words
constexpr int kLookbackRun = 4;      //!< tile statuses per lane per look-back read: 128 tiles a window

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
struct TileStatus
{
    using Acc = typename ScanType<T>::Acc;
    static constexpr int kWords = statusWords(sizeof(Acc));

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

    //! Lane `lane`'s kLookbackRun tiles of the window ending at `last`, nearest first (identity
    //! and inclusive before tile 0), read again until no tile of the warp's window is empty. All
    //! of a lane's loads are issued before any is used: one round trip per read of the window.
    __device__ static void peekRun(unsigned long long const* status, int64_t last, int lane,
        Acc (&v)[kLookbackRun], unsigned (&flag)[kLookbackRun])
    {
        bool empty = false;
        do
        {
            empty = false;
#pragma unroll
            for (int i = 0; i < kLookbackRun; ++i)
            {
                int64_t const p = last - lane * kLookbackRun - i;
                v[i] = identity();
                flag[i] = p >= 0 ? peek(status, p, v[i]) : unsigned{kInclusive};
                empty = empty || flag[i] == kEmpty;
            }
        } while (__any_sync(kFullMask, empty));
    }

    //! Warp 0's look-back: the scan of every tile before `tile` (> 0), over windows of
    //! kWarp * kLookbackRun tiles; the nearest inclusive prefix ends the walk. A window of only 32
    //! tiles (a status per lane) capped the scan at 32 tiles per round trip: 66% of copy at 64M
    //! fp32 on an H100, and 8 round trips for the last of 1M fp32's 256 tiles.
    __device__ static Acc lookBack(unsigned long long const* status, int64_t tile, int lane)
    {
        Acc exclusive = identity();
        for (int64_t last = tile - 1;; last -= kWarp * kLookbackRun) // the same for the whole warp
        {
            Acc v[kLookbackRun];
            unsigned flag[kLookbackRun];
            peekRun(status, last, lane, v, flag);
            int first = kLookbackRun; // the lane's nearest inclusive tile
#pragma unroll
            for (int i = kLookbackRun - 1; i >= 0; --i)
            {
                first = flag[i] == kInclusive ? i : first;
            }
            unsigned const inclusive = __ballot_sync(kFullMask, first < kLookbackRun);
            int const nearest = inclusive != 0 ? __ffs(inclusive) - 1 : kWarp;
            int const counted = lane < nearest ? kLookbackRun : lane == nearest ? first + 1 : 0;
            Acc run = identity();
#pragma unroll
            for (int i = 0; i < kLookbackRun; ++i)
            {
                run = i < counted ? Op()(v[i], run) : run;
            }
            exclusive = Op()(warpReduce(run), exclusive);
            if (inclusive != 0)
            {
                return exclusive;
            }
        }
    }
};

} // namespace cumulative_detail
} // namespace trtplug
