// GatherBlockQuantized kernels: each output row (one index into the table) reads its packed
// bytes once. Index math is 32-bit (FastDivmod) below 2^31 codes and output elements, else 64-bit.
#include "common/block_quant.cuh"
#include "common/dtype_dispatch.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "gather_block_quantized/gather_block_quantized.h"

#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace trtplug
{
namespace
{

constexpr int kChunk = 8; //!< codes a thread of the row kernel moves: one block holds >= 16

//! The table row an index picks, -1 when outside [-axisLen, axisLen) (the output is zeros there).
template <typename Ind>
__device__ __forceinline__ int64_t tableRow(Ind const* indices, int64_t n, int64_t axisLen)
{
    int64_t const i = static_cast<int64_t>(indices[n]);
    if (i < -axisLen || i >= axisLen)
    {
        return -1;
    }
    return i < 0 ? i + axisLen : i;
}

//! 8 outputs from one 16-byte-aligned position, as 16-byte stores.
template <typename T>
__device__ __forceinline__ void storeEight(T* out, float const (&v)[kChunk])
{
    constexpr int kPerStore = 16 / sizeof(T);
    for (int k = 0; k < kChunk; k += kPerStore)
    {
        Vec<T, kPerStore> packed;
        for (int j = 0; j < kPerStore; ++j)
        {
            packed.v[j] = fromFloat<T>(v[k + j]);
        }
        *reinterpret_cast<Vec<T, kPerStore>*>(out + k) = packed;
    }
}

//! The row kernel's sizes, in chunks of kChunk codes.
template <bool kWide>
struct RowChunks
{
    using Math = IndexMath<kWide>;
    typename Math::Divmod perRow;   //!< chunks in an output row (inner / kChunk)
    typename Math::Divmod count;    //!< indices
    typename Math::Divmod perLast;  //!< chunks in a row of the table's last axis
    int32_t blockShift{1};          //!< log2(blockSize / kChunk): chunk -> block along the last axis
    int64_t total{0};               //!< chunks in the output
};

//! The 8 values of output chunk `chunk` (zeros for an index outside the table): one load of Bits
//! bytes, their one scale and zero point.
template <typename T, typename Ind, int Bits, bool kWide>
__device__ __forceinline__ void dequantChunk(GbqProblem const& p, RowChunks<kWide> const& c, int64_t chunk, float (&v)[kChunk])
{
    using Index = typename IndexMath<kWide>::Index;
    using Word = typename EightCodes<Bits>::Word;
    auto const outRow = c.perRow.div(static_cast<Index>(chunk));
    auto const inRow = c.perRow.mod(static_cast<Index>(chunk));
    int64_t const row = tableRow(static_cast<Ind const*>(p.indices), c.count.mod(outRow), p.axisLen);
    for (int j = 0; j < kChunk; ++j)
    {
        v[j] = 0.F;
    }
    if (row >= 0)
    {
        auto const src = static_cast<Index>((c.count.div(outRow) * p.axisLen + row) * c.perRow.divisor + inRow);
        auto const lastRow = static_cast<int64_t>(c.perLast.div(src));
        auto const block = static_cast<int64_t>(c.perLast.mod(src) >> c.blockShift);
        float const scale = toFloat(static_cast<T const*>(p.scales)[lastRow * p.blocks + block]);
        int32_t const zero = blockZeroPoint(p.zeroPoints, lastRow, block, p.zeroRowBytes, Bits);
        Word const word = reinterpret_cast<Word const*>(p.data)[src];
        for (int j = 0; j < kChunk; ++j)
        {
            v[j] = dequantCode(codeOf<Bits>(word, j), zero, scale);
        }
    }
}

//! quantize_axis last, rows of whole chunks: 8 codes per thread, 8 outputs in 16-byte stores.
template <typename T, typename Ind, int Bits, bool kWide>
__global__ void gatherRowsKernel(GbqProblem p, RowChunks<kWide> c)
{
    auto* out = static_cast<T*>(p.output);
    auto const stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t chunk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; chunk < c.total; chunk += stride)
    {
        float v[kChunk];
        dequantChunk<T, Ind, Bits, kWide>(p, c, chunk, v);
        storeEight(out + chunk * kChunk, v);
    }
}

//! The float32 row kernel with whole-sector stores. storeEight's two 16-byte stores of a float32
//! chunk half-write each 32-byte sector twice (ncu on an H100: L2 at 86% of its peak while DRAM
//! moved 60%, 74% of copy). Here lanes 2k and 2k + 1, which the grid-stride loop keeps on chunks
//! 2m and 2m + 1, swap halves through a shuffle, so one store writes chunk 2m whole (lo from the
//! even lane, hi from the odd) and the other chunk 2m + 1. On an H100 (run 18): 85% of copy at
//! 256 MB (was 74%), 74% at 16 MB (was 64%). The default; TRTPLUG_GBQ_STORES=halves (read per
//! launch) keeps storeEight's two half-sector stores.
template <typename Ind, int Bits, bool kWide>
__global__ void gatherRowPairsKernel(GbqProblem p, RowChunks<kWide> c)
{
    using Half = Vec<float, kChunk / 2>;
    auto* out = static_cast<float*>(p.output);
    auto const stride = static_cast<int64_t>(gridDim.x) * blockDim.x; // even: pairs stay together
    int64_t const first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    int const odd = static_cast<int>(first & 1);
    unsigned const lanes = 3U << (threadIdx.x % 32 & ~1U); // the pair, which runs the same loop steps
    for (int64_t pair = first - odd; pair < c.total; pair += stride)
    {
        int64_t const chunk = pair + odd;
        float v[kChunk] = {};
        if (chunk < c.total)
        {
            dequantChunk<float, Ind, Bits, kWide>(p, c, chunk, v);
        }
        Half mine;    // even lane: its lo (of chunk 2m); odd lane: its hi (of 2m + 1)
        Half partner; // even lane: the odd lane's lo (of 2m + 1); odd lane: the even lane's hi (of 2m)
        for (int j = 0; j < kChunk / 2; ++j)
        {
            mine.v[j] = v[odd * kChunk / 2 + j];
            partner.v[j] = __shfl_xor_sync(lanes, v[(1 - odd) * kChunk / 2 + j], 1);
        }
        float* const at = out + pair * kChunk + odd * kChunk / 2;
        *reinterpret_cast<Half*>(at) = odd ? partner : mine; // chunk 2m (pair < total)
        if (pair + 1 < c.total)
        {
            *reinterpret_cast<Half*>(at + kChunk) = odd ? mine : partner; // chunk 2m + 1
        }
    }
}

//! Whether float32 rows take gatherRowPairsKernel (all but TRTPLUG_GBQ_STORES=halves).
bool pairStores() noexcept
{
    char const* choice = std::getenv("TRTPLUG_GBQ_STORES");
    return choice == nullptr || std::strcmp(choice, "halves") != 0;
}

//! Any axes: one output element per thread, 64-bit index math.
template <typename T, typename Ind>
__global__ void gatherElementsKernel(GbqProblem p, QuantizedAxis q, int64_t total)
{
    auto const* scales = static_cast<T const*>(p.scales);
    auto* out = static_cast<T*>(p.output);
    auto const stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride)
    {
        int64_t const outRow = o / p.inner;
        int64_t const row = tableRow(static_cast<Ind const*>(p.indices), outRow % p.count, p.axisLen);
        float value = 0.F;
        if (row >= 0)
        {
            int64_t const code = ((outRow / p.count) * p.axisLen + row) * p.inner + o % p.inner;
            int64_t const s = q.scaleIndex(code);
            int32_t const zero = blockZeroPoint(p.zeroPoints, s / p.scalesLast, s % p.scalesLast, p.zeroRowBytes, p.bits);
            value = dequantCode(packedCode(p.data, code, p.bits), zero, toFloat(scales[s]));
        }
        out[o] = fromFloat<T>(value);
    }
}

//! The row kernel takes the call: quantize_axis last (one scale per chunk), whole chunks per
//! row of the table and of the output, 16-byte-aligned output, data aligned for its loads.
bool rowKernelFits(GbqProblem const& p) noexcept
{
    bool const gatherNotLast = p.inner % p.codesLast == 0 && p.inner >= p.codesLast;
    return p.quantInner == 1 && p.codesLast % kChunk == 0 && gatherNotLast && isAligned(p.output, 16)
        && isAligned(p.data, p.bits);
}

template <typename T, typename Ind, bool kWide>
cudaError_t launchRows(GbqProblem const& p, cudaStream_t stream)
{
    using Divmod = typename IndexMath<kWide>::Divmod;
    using Index = typename IndexMath<kWide>::Index;
    RowChunks<kWide> c;
    c.perRow = Divmod(static_cast<Index>(p.inner / kChunk));
    c.count = Divmod(static_cast<Index>(p.count));
    c.perLast = Divmod(static_cast<Index>(p.codesLast / kChunk));
    c.blockShift = log2Of(p.blockSize / kChunk);
    c.total = p.outputVolume() / kChunk;
    int const grid = gridFor(c.total);
    if constexpr (std::is_same_v<T, float>)
    {
        if (pairStores())
        {
            switch (p.bits)
            {
            case 2: gatherRowPairsKernel<Ind, 2, kWide><<<grid, kBlockThreads, 0, stream>>>(p, c); break;
            case 4: gatherRowPairsKernel<Ind, 4, kWide><<<grid, kBlockThreads, 0, stream>>>(p, c); break;
            case 8: gatherRowPairsKernel<Ind, 8, kWide><<<grid, kBlockThreads, 0, stream>>>(p, c); break;
            default: return cudaErrorInvalidValue;
            }
            return cudaGetLastError();
        }
    }
    switch (p.bits)
    {
    case 2: gatherRowsKernel<T, Ind, 2, kWide><<<grid, kBlockThreads, 0, stream>>>(p, c); break;
    case 4: gatherRowsKernel<T, Ind, 4, kWide><<<grid, kBlockThreads, 0, stream>>>(p, c); break;
    case 8: gatherRowsKernel<T, Ind, 8, kWide><<<grid, kBlockThreads, 0, stream>>>(p, c); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

template <typename T, typename Ind>
cudaError_t launchFor(GbqProblem const& p, cudaStream_t stream)
{
    if (rowKernelFits(p))
    {
        int64_t const tableCodes = p.outer * p.axisLen * p.inner;
        bool const wide = tableCodes >= (int64_t{1} << 31) || p.outputVolume() >= (int64_t{1} << 31);
        return wide ? launchRows<T, Ind, true>(p, stream) : launchRows<T, Ind, false>(p, stream);
    }
    QuantizedAxis const q{p.quantLen, p.quantInner, p.blocks, p.blockSize};
    gatherElementsKernel<T, Ind><<<gridFor(p.outputVolume()), kBlockThreads, 0, stream>>>(p, q, p.outputVolume());
    return cudaGetLastError();
}

} // namespace

cudaError_t launchGatherBlockQuantized(
    DType valueType, DType indexType, GbqProblem const& p, cudaStream_t stream) noexcept
{
    if (indexType != DType::kINT32 && indexType != DType::kINT64)
    {
        return cudaErrorInvalidValue;
    }
    if (p.outputVolume() == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(valueType, [&](auto t) {
        using T = decltype(t);
        return indexType == DType::kINT32 ? launchFor<T, int32_t>(p, stream) : launchFor<T, int64_t>(p, stream);
    });
}

} // namespace trtplug
