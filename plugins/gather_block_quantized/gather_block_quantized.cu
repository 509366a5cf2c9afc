// GatherBlockQuantized kernels: each output row (one index into the table) reads its packed
// bytes once. The row kernels (gather_block_quantized_rows.cuh) take the embedding form; any
// other axes take one thread per output element, 64-bit index math.
#include "common/block_quant.cuh"
#include "common/dtype_dispatch.cuh"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "gather_block_quantized/gather_block_quantized.h"
#include "gather_block_quantized/gather_block_quantized_rows.cuh"

#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace trtplug
{
namespace
{

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

//! Whether float32 rows take gatherRowPairsKernel (all but TRTPLUG_GBQ_STORES=halves, which keeps
//! gatherRowsKernel's two half-sector stores; on an H100, run 18: pairs 85% of copy at 256 MB,
//! halves 74%).
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

template <typename T, typename Ind, bool kWide>
cudaError_t launchRows(GbqProblem const& p, cudaStream_t stream)
{
    RowChunks<kWide> const c = rowChunksOf<kWide>(p);
    int const grid = rowsGrid(c.total, int64_t{multiprocessorCount()} * 32);
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
