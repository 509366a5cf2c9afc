// GatherBlockQuantized's row kernels (quantize_axis last, whole chunks of 8 codes a row): a thread
// dequantizes chunk after chunk of a grid-stride loop. A chunk's loads (codes, scale, zero point)
// depend on its row's index, itself a load, so a thread takes kChunksAtOnce chunks a pass: their
// indices were loaded during the previous pass, their loads go out together, then their stores
// (ncu, H100, one chunk a thread: 72% of DRAM, half of 29.4 cycles an instruction on the long
// scoreboard, 85% of copy). Index math is 32-bit (FastDivmod) below 2^31 codes and outputs, else
// 64-bit. Included from gather_block_quantized.cu and tests/gather_block_quantized_emulation.cu
// (the loop is __host__ __device__; only the shuffle of the pair stores is device-only).
#pragma once

#include "common/block_quant.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "gather_block_quantized/gbq_problem.h"

#include <algorithm>
#include <cstdint>

namespace trtplug
{

constexpr int kChunk = 8;        //!< codes a thread moves at once: one block holds >= 16
constexpr int kChunksAtOnce = 4; //!< chunks a thread takes a pass (their loads in flight together)

//! The row kernel takes the call: quantize_axis last (one scale per chunk), whole chunks per
//! row of the table and of the output, 16-byte-aligned output, data aligned for its loads.
inline bool rowKernelFits(GbqProblem const& p) noexcept
{
    bool const gatherNotLast = p.inner % p.codesLast == 0 && p.inner >= p.codesLast;
    return p.quantInner == 1 && p.codesLast % kChunk == 0 && gatherNotLast && isAligned(p.output, 16)
        && isAligned(p.data, p.bits);
}

//! The row kernel's sizes, in chunks of kChunk codes.
template <bool kWide>
struct RowChunks
{
    using Math = IndexMath<kWide>;
    typename Math::Divmod perRow;  //!< chunks in an output row (inner / kChunk)
    typename Math::Divmod count;   //!< indices
    typename Math::Divmod perLast; //!< chunks in a row of the table's last axis
    int32_t blockShift{1};         //!< log2(blockSize / kChunk): chunk -> block along the last axis
    int64_t total{0};              //!< chunks in the output
};

//! The row kernel's sizes for `p` (rowKernelFits).
template <bool kWide>
RowChunks<kWide> rowChunksOf(GbqProblem const& p)
{
    using Divmod = typename IndexMath<kWide>::Divmod;
    using Index = typename IndexMath<kWide>::Index;
    RowChunks<kWide> c;
    c.perRow = Divmod(static_cast<Index>(p.inner / kChunk));
    c.count = Divmod(static_cast<Index>(p.count));
    c.perLast = Divmod(static_cast<Index>(p.codesLast / kChunk));
    c.blockShift = log2Of(p.blockSize / kChunk);
    c.total = p.outputVolume() / kChunk;
    return c;
}

//! The raw index of output chunk `chunk`'s row (a load, its value not yet used); 0 past the end.
template <typename Ind, bool kWide>
__host__ __device__ __forceinline__ Ind fetchIndex(GbqProblem const& p, RowChunks<kWide> const& c, int64_t chunk)
{
    using Index = typename IndexMath<kWide>::Index;
    if (chunk >= c.total)
    {
        return 0;
    }
    return static_cast<Ind const*>(p.indices)[c.count.mod(c.perRow.div(static_cast<Index>(chunk)))];
}

//! A chunk's loads, their values not yet used: 8 codes, the scale, the zero point's byte.
template <typename T, int Bits>
struct ChunkLoads
{
    typename EightCodes<Bits>::Word word{0};
    T scale{};
    uint32_t zeroByte{0};
    int32_t zeroShift{0};
    bool valid{false}; //!< false: zeros (past the end, or an index outside [-axisLen, axisLen))
};

//! The loads of output chunk `chunk`, whose row's index is `index`.
template <typename T, int Bits, typename Ind, bool kWide>
__host__ __device__ __forceinline__ ChunkLoads<T, Bits> loadChunk(
    GbqProblem const& p, RowChunks<kWide> const& c, int64_t chunk, Ind index)
{
    using Index = typename IndexMath<kWide>::Index;
    using Word = typename EightCodes<Bits>::Word;
    ChunkLoads<T, Bits> l;
    auto const i = static_cast<int64_t>(index);
    l.valid = chunk < c.total && i >= -p.axisLen && i < p.axisLen;
    if (l.valid)
    {
        int64_t const row = i < 0 ? i + p.axisLen : i;
        auto const outRow = c.perRow.div(static_cast<Index>(chunk));
        auto const inRow = c.perRow.mod(static_cast<Index>(chunk));
        auto const src = static_cast<Index>((c.count.div(outRow) * p.axisLen + row) * c.perRow.divisor + inRow);
        auto const lastRow = static_cast<int64_t>(c.perLast.div(src));
        auto const block = static_cast<int64_t>(c.perLast.mod(src) >> c.blockShift);
        l.scale = static_cast<T const*>(p.scales)[lastRow * p.blocks + block];
        l.zeroByte = 1U << (Bits - 1); // no zero points: 2^(bits - 1)
        if (p.zeroPoints != nullptr)
        {
            constexpr int kPerByte = 8 / Bits;
            l.zeroByte = p.zeroPoints[lastRow * p.zeroRowBytes + block / kPerByte];
            l.zeroShift = static_cast<int32_t>(block % kPerByte) * Bits;
        }
        l.word = reinterpret_cast<Word const*>(p.data)[src];
    }
    return l;
}

//! The 8 values of a chunk from its loads.
template <typename T, int Bits>
__host__ __device__ __forceinline__ void dequantChunk(ChunkLoads<T, Bits> const& l, float (&v)[kChunk])
{
    auto const zero = static_cast<int32_t>((l.zeroByte >> l.zeroShift) & ((1U << Bits) - 1));
    float const scale = toFloat(l.scale);
    for (int j = 0; j < kChunk; ++j)
    {
        v[j] = l.valid ? dequantCode(codeOf<Bits>(l.word, j), zero, scale) : 0.F;
    }
}

//! One thread's share: positions first, first + stride, ... < total (chunk = position + odd) in
//! passes of kChunksAtOnce (the grid-stride loop's iterations, kChunksAtOnce at a time); emit
//! gets each position and its chunk's 8 values.
template <typename T, typename Ind, int Bits, bool kWide, class Emit>
__host__ __device__ __forceinline__ void gatherChunks(
    GbqProblem const& p, RowChunks<kWide> const& c, int64_t first, int64_t stride, int odd, Emit const& emit)
{
    Ind index[kChunksAtOnce];
    for (int k = 0; k < kChunksAtOnce; ++k)
    {
        index[k] = fetchIndex<Ind>(p, c, first + k * stride + odd);
    }
    for (int64_t pos = first; pos < c.total; pos += kChunksAtOnce * stride)
    {
        Ind next[kChunksAtOnce]; // in flight while this pass loads and stores
        for (int k = 0; k < kChunksAtOnce; ++k)
        {
            next[k] = fetchIndex<Ind>(p, c, pos + (kChunksAtOnce + k) * stride + odd);
        }
        ChunkLoads<T, Bits> loads[kChunksAtOnce];
        for (int k = 0; k < kChunksAtOnce; ++k)
        {
            loads[k] = loadChunk<T, Bits>(p, c, pos + k * stride + odd, index[k]);
        }
        for (int k = 0; k < kChunksAtOnce; ++k)
        {
            if (pos + k * stride < c.total)
            {
                float v[kChunk];
                dequantChunk(loads[k], v);
                emit(pos + k * stride, v);
            }
        }
        for (int k = 0; k < kChunksAtOnce; ++k)
        {
            index[k] = next[k];
        }
    }
}

//! Chunk `chunk`'s 8 outputs at its 16-byte-aligned place, as 16-byte stores.
template <typename T, class Store = PlainStore>
struct EightStores
{
    T* out;
    Store store;

    __host__ __device__ __forceinline__ void operator()(int64_t chunk, float const (&v)[kChunk]) const
    {
        constexpr int kPerStore = 16 / sizeof(T);
        for (int k = 0; k < kChunk; k += kPerStore)
        {
            Vec<T, kPerStore> packed;
            for (int j = 0; j < kPerStore; ++j)
            {
                packed.v[j] = fromFloat<T>(v[k + j]);
            }
            store(reinterpret_cast<Vec<T, kPerStore>*>(out + chunk * kChunk + k), packed);
        }
    }
};

//! The lane pair of a float32 pair store: a shuffle to the other lane, plain stores.
struct WarpPair
{
    unsigned lanes; //!< the pair's bits in the warp mask

    __host__ __device__ __forceinline__ float swap(float value) const
    {
#ifdef __CUDA_ARCH__
        return __shfl_xor_sync(lanes, value, 1);
#else
        return value; // never called on the host: the emulation brings its own pair
#endif
    }

    __host__ __device__ __forceinline__ void store(float4* at, float4 const& value) const
    {
#ifdef __CUDA_ARCH__
        __stwb(at, value); // one 16-byte store: plain ones of the third and fourth chunk came out as 4 bytes each
#else
        *at = value;
#endif
    }
};

//! Whole-sector float32 stores. Two 16-byte stores of a float32 chunk half-write each 32-byte
//! sector twice (ncu on an H100: L2 at 86% of its peak while DRAM moved 60%, 74% of copy). Lanes
//! 2k and 2k + 1, which the loop keeps on chunks 2m and 2m + 1 (`pair` = 2m), swap halves, so one
//! store writes chunk 2m whole (lo from the even lane, hi from the odd) and the other chunk 2m + 1.
template <class Pair>
struct PairStores
{
    float* out;
    int64_t total;
    int odd;
    Pair pair;

    __host__ __device__ __forceinline__ void operator()(int64_t at, float const (&v)[kChunk]) const
    {
        static_assert(kChunk == 8, "a half chunk is one float4");
        float first[4];  // chunk 2m: even lane: its lo; odd lane: the even lane's hi
        float second[4]; // chunk 2m + 1: even lane: the odd lane's lo; odd lane: its hi
        for (int j = 0; j < 4; ++j)
        {
            float const lo = v[j];
            float const hi = v[4 + j];
            float const partner = pair.swap(odd ? lo : hi);
            first[j] = odd ? partner : lo;
            second[j] = odd ? hi : partner;
        }
        auto* const half = reinterpret_cast<float4*>(out + at * kChunk + odd * 4);
        pair.store(half, make_float4(first[0], first[1], first[2], first[3])); // at < total
        if (at + 1 < total)
        {
            pair.store(half + 2, make_float4(second[0], second[1], second[2], second[3]));
        }
    }
};

//! Blocks for `total` chunks, kChunksAtOnce a thread, at most maxBlocks.
inline int rowsGrid(int64_t total, int64_t maxBlocks)
{
    int64_t const threads = (total + kChunksAtOnce - 1) / kChunksAtOnce;
    return static_cast<int>(std::max<int64_t>(1, std::min((threads + kBlockThreads - 1) / kBlockThreads, maxBlocks)));
}

// Launch bounds: 32-bit index math in 48 registers or fewer (5 blocks a multiprocessor, 62.5% of
// the threads of one chunk a thread at 29-32 registers, each with 4 chunks in flight), no spill;
// the 64-bit form (tables past 2^31 codes) uncapped, up to 72 registers, no spill.

//! 8 outputs of a chunk per thread, in 16-byte stores.
template <typename T, typename Ind, int Bits, bool kWide>
__global__ void __launch_bounds__(kBlockThreads, kWide ? 1 : 5) gatherRowsKernel(GbqProblem p, RowChunks<kWide> c)
{
    auto const stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    int64_t const first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    gatherChunks<T, Ind, Bits>(p, c, first, stride, 0, EightStores<T>{static_cast<T*>(p.output), {}});
}

//! float32 with PairStores: lanes 2k and 2k + 1 run the same positions 2m (stride even).
template <typename Ind, int Bits, bool kWide>
__global__ void __launch_bounds__(kBlockThreads, kWide ? 1 : 5) gatherRowPairsKernel(GbqProblem p, RowChunks<kWide> c)
{
    auto const stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    int64_t const first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    int const odd = static_cast<int>(first & 1);
    PairStores<WarpPair> const emit{static_cast<float*>(p.output), c.total, odd, {3U << (threadIdx.x % 32 & ~1U)}};
    gatherChunks<float, Ind, Bits>(p, c, first - odd, stride, odd, emit);
}

} // namespace trtplug
