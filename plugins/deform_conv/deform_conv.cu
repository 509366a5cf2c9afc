#include "common/dtype_dispatch.cuh"
#include "common/gemm.h"
#include "common/launch.cuh"
#include "deform_conv/deform_conv.h"

#include <type_traits>

namespace trtplug
{
namespace
{

//! y[n, oc, p] = (bias ? bias[oc] : 0) + (overwrite ? 0 : y[n, oc, p]).
template <class T>
__global__ void addBias(int64_t total, int64_t pixels, int64_t outChannels, T const* bias, bool overwrite, T* y)
{
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x)
    {
        float const b = bias != nullptr ? toFloat(bias[(i / pixels) % outChannels]) : 0.0F;
        y[i] = fromFloat<T>(b + (overwrite ? 0.0F : toFloat(y[i])));
    }
}

//! Channels one thread of the planar im2col samples with one set of bilinear corners. Offsets and
//! the mask depend on (offset group, tap, pixel), not on the channel, so their reads and the corner
//! math are paid once per 8 channels; 8 (not the whole offset group) keeps og * ceil(Cog / 8) * K * P
//! threads per image (1.2M for the benchmark's 64 channels at 128x128: several waves on 132 SMs).
constexpr int64_t kChannelsPerThread = 8;

//! The four bilinear corners of one sample point in a channel plane, top-left first: corner
//! (dy, dx) is element topLeft + dy * width + dx. A corner outside the image is never read and adds
//! nothing (ONNX DeformConv's zero padding). One base, not four indices: fewer registers.
struct BilinearCorners
{
    int64_t topLeft;
    float weight[4];
    bool inside[4];
};

//! The corners and weights for (py, px), computed once for every channel they serve.
__device__ BilinearCorners bilinearCorners(int64_t height, int64_t width, float py, float px)
{
    BilinearCorners s{};
    if (!(py > -1.0F && px > -1.0F && py < static_cast<float>(height) && px < static_cast<float>(width)))
    {
        return s; // no corner inside: the sample is 0
    }
    float const y0f = floorf(py);
    float const x0f = floorf(px);
    auto const y0 = static_cast<int64_t>(y0f);
    auto const x0 = static_cast<int64_t>(x0f);
    float const ly = py - y0f;
    float const lx = px - x0f;
    s.topLeft = y0 * width + x0;
#pragma unroll
    for (int corner = 0; corner < 4; ++corner)
    {
        int const dy = corner >> 1;
        int const dx = corner & 1;
        int64_t const yy = y0 + dy;
        int64_t const xx = x0 + dx;
        s.inside[corner] = yy >= 0 && yy < height && xx >= 0 && xx < width;
        s.weight[corner] = (dy ? ly : 1.0F - ly) * (dx ? lx : 1.0F - lx);
    }
    return s;
}

//! The bilinear sum over one channel plane, corners in order, those outside skipped.
template <class T>
__device__ float sampleCorners(T const* __restrict__ plane, int64_t width, BilinearCorners const& s)
{
    float total = 0.0F;
#pragma unroll
    for (int corner = 0; corner < 4; ++corner)
    {
        if (s.inside[corner])
        {
            total += s.weight[corner] * toFloat(plane[s.topLeft + (corner >> 1) * width + (corner & 1)]);
        }
    }
    return total;
}

//! One image's columns in the GEMM's own [C * K, P] layout (row c * K + k, pixels contiguous):
//! conv group g's rows are the dense block cols_g[Cg * K, P], so Y_g[OCg, P] = W_g[OCg, Cg * K] @
//! cols_g with no transpose. Thread index: pixel p fastest, then tap k, then a run of
//! kChannelsPerThread channels of one offset group. Neighbouring threads take neighbouring pixels:
//! their offset/mask reads and column stores are coalesced, and their corners lie in the same rows
//! of x (the old [P, C * K] layout put channels and taps across a warp: ~4x the sectors per gather).
//! Bounded to 48 registers (5 blocks per SM, no spills on sm_90): a gather-bound loop wants warps.
template <class T>
__global__ void __launch_bounds__(kBlockThreads, 5) deformIm2colPlanar(
    DeformConvGeometry g, T const* __restrict__ x, T const* __restrict__ offset, T const* __restrict__ mask, T* cols)
{
    int64_t const points = g.kernelH * g.kernelW;
    int64_t const pixels = g.outH * g.outW;
    int64_t const plane = g.height * g.width;
    int64_t const perOffsetGroup = g.channels / g.attrs.offsetGroup;
    int64_t const runs = (perOffsetGroup + kChannelsPerThread - 1) / kChannelsPerThread;
    int64_t const total = g.attrs.offsetGroup * runs * points * pixels;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const p = i % pixels;
        int64_t const k = (i / pixels) % points;
        int64_t const run = (i / (pixels * points)) % runs;
        int64_t const og = i / (pixels * points * runs);
        int64_t const oy = p / g.outW;
        int64_t const ox = p % g.outW;
        int64_t const ki = k / g.kernelW;
        int64_t const kj = k % g.kernelW;
        T const* pair = offset + (og * 2 * points + 2 * k) * pixels + p;
        float const py = static_cast<float>(oy * g.attrs.strides[0] - g.attrs.pads[0] + ki * g.attrs.dilations[0])
            + toFloat(pair[0]);
        float const px = static_cast<float>(ox * g.attrs.strides[1] - g.attrs.pads[1] + kj * g.attrs.dilations[1])
            + toFloat(pair[pixels]);
        BilinearCorners const corners = bilinearCorners(g.height, g.width, py, px);
        // value * 1.0F is value exactly (NaN and Inf included): no mask multiplies by one
        float const scale = mask != nullptr ? toFloat(mask[(og * points + k) * pixels + p]) : 1.0F;
        int64_t const first = og * perOffsetGroup + run * kChannelsPerThread;
        int64_t const last = min(first + kChannelsPerThread, (og + 1) * perOffsetGroup);
#pragma unroll 4
        for (int64_t c = first; c < last; ++c)
        {
            cols[(c * points + k) * pixels + p] = fromFloat<T>(sampleCorners(x + c * plane, g.width, corners) * scale);
        }
    }
}

//! Per image: the [C * K, P] columns, then one GEMM per conv group straight into Y.
template <class T>
cudaError_t planarColumnsGemm(DeformConvGeometry const& g, DeformConvTensors const& t, DType dtype, T* cols,
    cudaStream_t stream)
{
    int64_t const points = g.kernelH * g.kernelW;
    int64_t const pixels = g.outH * g.outW;
    int64_t const outPerGroup = g.outChannels / g.attrs.group;
    int64_t const inner = g.channels / g.attrs.group * points;
    int64_t const runs = (g.channels / g.attrs.offsetGroup + kChannelsPerThread - 1) / kChannelsPerThread;
    int64_t const work = g.attrs.offsetGroup * runs * points * pixels;
    auto const* w = static_cast<T const*>(t.w);
    auto* y = static_cast<T*>(t.y);
    for (int64_t n = 0; n < g.batch; ++n)
    {
        // per image, not batched: one image's columns (19 MB fp16 for the benchmark) stay in the
        // 50 MB L2 between the im2col that writes them and the GEMM that reads them
        deformIm2colPlanar<T><<<gridFor(work), kBlockThreads, 0, stream>>>(g,
            static_cast<T const*>(t.x) + n * g.channels * g.height * g.width,
            static_cast<T const*>(t.offset) + n * 2 * g.attrs.offsetGroup * points * pixels,
            t.mask != nullptr ? static_cast<T const*>(t.mask) + n * g.attrs.offsetGroup * points * pixels : nullptr,
            cols);
        cudaError_t err = cudaGetLastError();
        for (int64_t group = 0; group < g.attrs.group && err == cudaSuccess; ++group)
        {
            err = gemmRowMajor(dtype, outPerGroup, pixels, inner, w + group * outPerGroup * inner,
                cols + group * inner * pixels, y + (n * g.outChannels + group * outPerGroup) * pixels, stream);
        }
        if (err != cudaSuccess)
        {
            return err;
        }
    }
    return cudaSuccess;
}

template <class T>
cudaError_t runDeformConv(DeformConvGeometry const& g, DeformConvTensors const& t, T* cols, cudaStream_t stream)
{
    int64_t const inner = g.channels / g.attrs.group * g.kernelH * g.kernelW;
    int64_t const pixels = g.outH * g.outW;
    int64_t const yTotal = g.batch * g.outChannels * pixels;
    auto const* bias = static_cast<T const*>(t.bias);
    if (yTotal == 0)
    {
        return cudaSuccess;
    }
    if (inner == 0) // no input channels: Y is the bias alone (the GEMM would leave it unwritten)
    {
        addBias<T><<<gridFor(yTotal), kBlockThreads, 0, stream>>>(
            yTotal, pixels, g.outChannels, bias, true, static_cast<T*>(t.y));
        return cudaGetLastError();
    }
    DType const dtype = std::is_same<T, float>::value ? DType::kFLOAT32
        : std::is_same<T, __half>::value              ? DType::kFLOAT16
                                                      : DType::kBFLOAT16;
    cudaError_t const err = planarColumnsGemm(g, t, dtype, cols, stream);
    if (err != cudaSuccess || bias == nullptr)
    {
        return err;
    }
    addBias<T><<<gridFor(yTotal), kBlockThreads, 0, stream>>>(
        yTotal, pixels, g.outChannels, bias, false, static_cast<T*>(t.y));
    return cudaGetLastError();
}

} // namespace

size_t deformConvWorkspaceSize(DType dtype, DeformConvGeometry const& g) noexcept
{
    return static_cast<size_t>(g.channels * g.kernelH * g.kernelW * g.outH * g.outW) * dtypeSize(dtype);
}

cudaError_t launchDeformConv(DType dtype, DeformConvGeometry const& g, DeformConvTensors const& t, void* workspace,
    cudaStream_t stream) noexcept
{
    if (!gemmAvailable())
    {
        return cudaErrorNotSupported;
    }
    DeformConvTensors used = t;
    used.mask = g.hasMask ? t.mask : nullptr;
    used.bias = g.hasBias ? t.bias : nullptr;
    return forFloatOrBf16Type(
        dtype, [&](auto zero) { return runDeformConv(g, used, static_cast<decltype(zero)*>(workspace), stream); });
}

} // namespace trtplug
