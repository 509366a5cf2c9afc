#include "common/dtype_dispatch.cuh"
#include "col2im/col2im_chunks.cuh"
#include "common/launch.cuh"

#include <algorithm>
#include <limits>

namespace trtplug
{
namespace
{

//! Block lengths and positions per axis from the device block_shape; false when they disagree
//! with the host's kernel and column counts (then the output is NaN, never an out-of-bounds read).
template <int S, bool kWide>
__device__ bool loadBlocks(
    int64_t const* blockShape, Col2ImChunks<S, kWide> const& g, int32_t (&block)[S], int32_t (&count)[S])
{
    bool ok = true;
    int64_t kernel = 1;
    int64_t columns = 1;
#pragma unroll
    for (int d = 0; d < S; ++d)
    {
        int64_t b = __ldg(blockShape + d);
        ok = ok && b >= 1 && b <= INT32_MAX;
        b = ok ? b : 1;
        int64_t const span = int64_t{g.axes.image[d]} + g.axes.padBegin[d] + g.axes.padEnd[d]
            - int64_t{g.axes.dilation[d]} * (b - 1) - 1;
        int64_t const n = span < 0 ? 0 : span / g.axes.stride[d].divisor + 1;
        block[d] = static_cast<int32_t>(b);
        count[d] = static_cast<int32_t>(n);
        kernel *= b;
        columns *= n;
    }
    return ok && kernel == g.kernel && columns == g.columns;
}

//! Chunks up to 3-D: 4-D to 6-D Col2Im is rare, and their chunk kernels would double the build
//! time of this file (they take one output a thread, as other strides do).
constexpr int kChunkedMaxSpatial = 3;

//! Outputs per thread: a 16-byte chunk where the last axis has stride 1 (kUnit), else one (each
//! output gathers alone, and more per thread would only cost registers).
template <class T, bool kUnit>
constexpr int kChunk = kUnit ? static_cast<int>(16 / sizeof(T)) : 1;

//! Block shape of a kernel. Stride-1 chunks (32-bit indices, up to 3-D): 128-thread blocks at 80
//! registers (fp32 1-D/2-D, 6 a SM) or 96 (5 a SM), what it takes to issue all loads of a window
//! group before the first is used (2-D), without spills. Single outputs: 6 blocks of 256 at 40
//! registers for 1-D/2-D, as the first kernel. The 64-bit and 4-D+ kernels take what they need.
template <class T, int S, bool kWide, bool kUnit>
struct Col2ImBlocks
{
    static constexpr bool kTuned = !kWide && S <= 3;
    static constexpr int kThreads = kUnit ? 128 : kBlockThreads;
    static constexpr int kMin = !kTuned ? 1 : kUnit ? (sizeof(T) == 4 && S <= 2 ? 6 : 5) : S <= 2 ? 6 : 1;
};

//! One thread per chunk (grid-stride).
template <int S, class T, bool kWide, bool kUnit>
__global__ void __launch_bounds__(Col2ImBlocks<T, S, kWide, kUnit>::kThreads, Col2ImBlocks<T, S, kWide, kUnit>::kMin)
    col2imChunks(T const* __restrict__ input, int64_t const* __restrict__ blockShape, T* __restrict__ output,
        Col2ImChunks<S, kWide> g)
{
    using Index = typename Col2ImChunks<S, kWide>::Index;
    constexpr int kV = kChunk<T, kUnit>;
    int32_t block[S];
    int32_t count[S];
    bool const ok = loadBlocks(blockShape, g, block, count);
    for (Index chunk = blockIdx.x * Index{blockDim.x} + threadIdx.x; chunk < g.chunks;
         chunk += Index{gridDim.x} * blockDim.x)
    {
        col2imChunk<T, kV, kUnit>(input, output, g, block, count, ok, chunk);
    }
}

//! Blocks of the chunk kernel resident on one SM of the current device (0: unknown).
template <int S, class T, bool kWide, bool kUnit>
int residentPerSm() noexcept
{
    return residentBlocksPerSm<col2imChunks<S, T, kWide, kUnit>>(Col2ImBlocks<T, S, kWide, kUnit>::kThreads);
}

//! At most one wave of resident blocks, striding over the chunks: gridFor's 32 blocks per SM are
//! 5.3 waves of 6, and the last third of a wave would run at a third of the loads in flight.
template <int S, class T, bool kWide, bool kUnit>
void launchKernel(T const* x, int64_t const* blockShape, T* y, Col2ImGeometry const& g, cudaStream_t stream)
{
    constexpr int kThreads = Col2ImBlocks<T, S, kWide, kUnit>::kThreads;
    auto const c = makeCol2ImChunks<S, kWide>(g, kChunk<T, kUnit>, isAligned(x, 16), isAligned(y, 16));
    int const perSm = residentPerSm<S, T, kWide, kUnit>();
    int64_t const wave = int64_t{perSm} * multiprocessorCount();
    int64_t const needed = (static_cast<int64_t>(c.chunks) + kThreads - 1) / kThreads;
    int const blocks = perSm > 0 ? static_cast<int>(std::clamp<int64_t>(needed, 1, wave)) : gridFor(c.chunks, kThreads);
    col2imChunks<S, T, kWide, kUnit><<<blocks, kThreads, 0, stream>>>(x, blockShape, y, c);
}

template <int S, class T, bool kWide>
cudaError_t launchChunks(void const* input, int64_t const* blockShape, void* output, Col2ImGeometry const& g,
    cudaStream_t stream)
{
    auto const* x = static_cast<T const*>(input);
    auto* y = static_cast<T*>(output);
    if constexpr (S <= kChunkedMaxSpatial)
    {
        if (g.strides[S - 1] == 1)
        {
            launchKernel<S, T, kWide, true>(x, blockShape, y, g, stream);
            return cudaGetLastError();
        }
    }
    launchKernel<S, T, kWide, false>(x, blockShape, y, g, stream);
    return cudaGetLastError();
}

//! 32-bit flat indices when every output and input index (with a chunk's slack past it) fits.
template <int S, class T>
cudaError_t launchTyped(void const* input, int64_t const* blockShape, void* output, Col2ImGeometry const& g,
    int64_t total, cudaStream_t stream)
{
    constexpr int64_t kSlack = 2 * 16;
    int64_t const inputElements = g.batch * g.channels * g.kernel * g.columns;
    if (total + kSlack <= INT32_MAX && inputElements + kSlack <= INT32_MAX)
    {
        return launchChunks<S, T, false>(input, blockShape, output, g, stream);
    }
    return launchChunks<S, T, true>(input, blockShape, output, g, stream);
}

template <class T>
cudaError_t launchSpatial(void const* input, int64_t const* blockShape, void* output, Col2ImGeometry const& g,
    int64_t total, cudaStream_t stream)
{
    switch (g.spatial)
    {
    case 1: return launchTyped<1, T>(input, blockShape, output, g, total, stream);
    case 2: return launchTyped<2, T>(input, blockShape, output, g, total, stream);
    case 3: return launchTyped<3, T>(input, blockShape, output, g, total, stream);
    case 4: return launchTyped<4, T>(input, blockShape, output, g, total, stream);
    case 5: return launchTyped<5, T>(input, blockShape, output, g, total, stream);
    case 6: return launchTyped<6, T>(input, blockShape, output, g, total, stream);
    default: return cudaErrorInvalidValue;
    }
}

//! Every per-axis value, padded extent and dilated extent must fit the kernel's 32-bit axis math.
bool fitsInt32(Col2ImGeometry const& g) noexcept
{
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        if (g.image[d] < 0 || g.dilations[d] < 1 || g.strides[d] < 1 || g.padBegin[d] < 0 || g.padEnd[d] < 0
            || g.image[d] + g.padBegin[d] + g.padEnd[d] > kMax || g.dilations[d] > kMax || g.strides[d] > kMax)
        {
            return false;
        }
    }
    return true;
}

} // namespace

cudaError_t launchCol2Im(DType dtype, void const* input, int64_t const* blockShape, void* output,
    Col2ImGeometry const& g, cudaStream_t stream) noexcept
{
    if (g.spatial < 1 || g.spatial > kCol2ImMaxSpatial || g.batch < 0 || g.channels < 0 || g.kernel < 0
        || g.columns < 0 || !fitsInt32(g))
    {
        return cudaErrorInvalidValue;
    }
    int64_t total = g.batch * g.channels;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        total *= g.image[d];
    }
    if (total == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(
        dtype, [&](auto zero) { return launchSpatial<decltype(zero)>(input, blockShape, output, g, total, stream); });
}

} // namespace trtplug
