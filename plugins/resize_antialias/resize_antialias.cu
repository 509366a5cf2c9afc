// The antialiased Resize kernels and launcher: one grid-stride pass per resized axis (planning
// is in resize_plan.cu).
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "resize_antialias/resize_antialias.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace trtplug
{
namespace
{

//! One pass: the tensor as [outer, inLen, inner] resized along the middle axis to outLen.
struct AxisPass
{
    int64_t outer, inLen, outLen, inner;
    double scale;
    float support; //!< min(scale, 1): the kernel argument's factor (widens the window when < 1)
    float roiStart, roiEnd;
    int32_t taps;
    ResizeCoord coord;
    float cubicA;
    bool excludeOutside;
    float extrapolation;
};

__host__ __device__ __forceinline__ float tapWeight(bool cubic, float t, float a)
{
    t = fabsf(t);
    if (!cubic)
    {
        return fmaxf(0.F, 1.F - t);
    }
    if (t <= 1.F)
    {
        return ((a + 2.F) * t - (a + 3.F)) * t * t + 1.F;
    }
    return t < 2.F ? ((a * t - 5.F * a) * t + 8.F * a) * t - 4.F * a : 0.F;
}

//! Where output index o samples the input, in float64 and in the reference's operation order.
__host__ __device__ __forceinline__ double sourceCoordinate(int64_t o, AxisPass const& a)
{
    double const y = double(o);
    double const width = a.scale * double(a.inLen); // the real-valued output length
    switch (a.coord)
    {
    case ResizeCoord::kHALF_PIXEL: return (y + 0.5) / a.scale - 0.5;
    case ResizeCoord::kHALF_PIXEL_SYMMETRIC:
        return double(a.inLen) / 2.0 * (1.0 - double(a.outLen) / width) + (y + 0.5) / a.scale - 0.5;
    case ResizeCoord::kPYTORCH_HALF_PIXEL: return width == 1.0 ? -0.5 : (y + 0.5) / a.scale - 0.5;
    case ResizeCoord::kALIGN_CORNERS: return width == 1.0 ? 0.0 : y * double(a.inLen - 1) / (width - 1.0);
    case ResizeCoord::kASYMMETRIC: return y / a.scale;
    case ResizeCoord::kTF_CROP_AND_RESIZE:
    {
        double const span = double(a.roiEnd - a.roiStart);
        double const x = width == 1.0 ? span * double(a.inLen - 1) / 2.0 : y * span * double(a.inLen - 1) / (width - 1.0);
        return x + double(a.roiStart * float(a.inLen - 1));
    }
    }
    return 0.0;
}

//! Output index o of a pass: the weighted mean over its window of `taps` inputs (edge pixels
//! repeated past the ends, or left out with exclude_outside), float32 accumulation; load(i)
//! reads input i of the line as float. Host-callable, so the algorithm can be checked off-GPU.
template <bool kCubic, class Load>
__host__ __device__ __forceinline__ float resizedValue(AxisPass const& a, int64_t o, Load const& load)
{
    double const src = sourceCoordinate(o, a);
    if (a.coord == ResizeCoord::kTF_CROP_AND_RESIZE && (src < 0.0 || src > double(a.inLen - 1)))
    {
        return a.extrapolation;
    }
    int64_t const first = static_cast<int64_t>(ceil(src)) - a.taps / 2; // ties go to the lower taps
    float const offset = static_cast<float>(double(first) - src);
    float acc = 0.F;
    float sum = 0.F;
    for (int32_t k = 0; k < a.taps; ++k)
    {
        int64_t const i = first + k;
        bool const inside = i >= 0 && i < a.inLen;
        if (!inside && a.excludeOutside)
        {
            continue;
        }
        float const w = tapWeight(kCubic, (offset + float(k)) * a.support, a.cubicA);
        acc += w * load(i < 0 ? 0 : (i >= a.inLen ? a.inLen - 1 : i));
        sum += w;
    }
    return sum != 0.F ? acc / sum : 0.F;
}

//! One output element per thread (grid-stride). Index: int32_t when every offset fits (64-bit
//! division costs as much as the loads here).
template <bool kCubic, class Index, class TIn, class TOut>
__global__ void resizeAxisKernel(TIn const* __restrict__ x, TOut* __restrict__ y, AxisPass const a)
{
    Index const inner = static_cast<Index>(a.inner);
    Index const outLen = static_cast<Index>(a.outLen);
    Index const inLen = static_cast<Index>(a.inLen);
    Index const total = static_cast<Index>(a.outer * a.outLen * a.inner);
    for (Index idx = blockIdx.x * Index(blockDim.x) + threadIdx.x; idx < total; idx += Index(gridDim.x) * blockDim.x)
    {
        Index const row = idx / inner;
        Index const in = idx - row * inner;
        Index const outer = row / outLen;
        Index const o = row - outer * outLen;
        TIn const* line = x + (outer * inLen * inner + in);
        auto const load = [&](int64_t i) { return toFloat(line[static_cast<Index>(i) * inner]); };
        y[idx] = fromFloat<TOut>(resizedValue<kCubic>(a, int64_t{o}, load));
    }
}

template <class Index, class TIn, class TOut>
void launchIndexed(TIn const* x, TOut* y, AxisPass const& a, bool cubic, int blocks, cudaStream_t stream)
{
    if (cubic)
    {
        resizeAxisKernel<true, Index><<<blocks, kBlockThreads, 0, stream>>>(x, y, a);
    }
    else
    {
        resizeAxisKernel<false, Index><<<blocks, kBlockThreads, 0, stream>>>(x, y, a);
    }
}

template <class TIn, class TOut>
cudaError_t launchPass(TIn const* x, TOut* y, AxisPass const& a, bool cubic, cudaStream_t stream)
{
    int64_t const total = a.outer * a.outLen * a.inner;
    if (total == 0)
    {
        return cudaSuccess;
    }
    int const blocks = gridFor(total);
    // The grid-stride loop's last step may pass the count by one grid: keep that within int32 too.
    int64_t const reach = std::max(total, a.outer * a.inLen * a.inner) + int64_t{blocks} * kBlockThreads;
    if (reach < INT32_MAX)
    {
        launchIndexed<int32_t>(x, y, a, cubic, blocks, stream);
    }
    else
    {
        launchIndexed<int64_t>(x, y, a, cubic, blocks, stream);
    }
    return cudaGetLastError();
}

//! The pass over axis d of a tensor whose dims are currently `dims`.
AxisPass axisPass(ResizePlan const& plan, int64_t const* dims, int32_t d)
{
    AxisPass a{};
    a.outer = 1;
    a.inner = 1;
    for (int32_t i = 0; i < d; ++i)
    {
        a.outer *= dims[i];
    }
    for (int32_t i = d + 1; i < plan.rank; ++i)
    {
        a.inner *= dims[i];
    }
    a.inLen = dims[d];
    a.outLen = plan.out[d];
    a.scale = plan.scale[d];
    double const s = std::min(plan.scale[d], 1.0);
    a.support = static_cast<float>(s);
    a.taps = 2 - 2 * (static_cast<int32_t>(std::floor((plan.cubic ? -2.0 : -1.0) / s)) + 1);
    a.roiStart = plan.roiStart[d];
    a.roiEnd = plan.roiEnd[d];
    a.coord = plan.coord;
    a.cubicA = plan.cubicA;
    a.excludeOutside = plan.excludeOutside;
    a.extrapolation = plan.extrapolation;
    return a;
}

int64_t volumeOf(ResizePlan const& plan, int64_t const* dims)
{
    int64_t n = 1;
    for (int32_t i = 0; i < plan.rank; ++i)
    {
        n *= dims[i];
    }
    return n;
}

constexpr size_t kAlign = 256;

//! Elements of the largest intermediate (after every pass but the last).
int64_t largestIntermediate(ResizePlan const& plan)
{
    int64_t dims[ResizePlan::kMaxRank];
    std::copy(plan.in, plan.in + plan.rank, dims);
    int64_t largest = 0;
    for (int32_t j = 0; j + 1 < plan.nbPasses; ++j)
    {
        dims[plan.passAxis[j]] = plan.out[plan.passAxis[j]];
        largest = std::max(largest, volumeOf(plan, dims));
    }
    return largest;
}

//! The passes in plan order, x -> scratch -> ... -> y. Intermediates are in X's type: float32
//! stays float32; a 16-bit type halves the traffic between passes at one extra rounding (each
//! pass accumulates in float32).
template <class T>
cudaError_t runPasses(ResizePlan const& plan, T const* x, T* y, void* workspace, cudaStream_t stream)
{
    size_t const bufferBytes = (size_t(largestIntermediate(plan)) * sizeof(float) + kAlign - 1) / kAlign * kAlign;
    T* buffers[2] = {static_cast<T*>(workspace), reinterpret_cast<T*>(static_cast<char*>(workspace) + bufferBytes)};
    int64_t dims[ResizePlan::kMaxRank];
    std::copy(plan.in, plan.in + plan.rank, dims);
    cudaError_t err = cudaSuccess;
    for (int32_t j = 0; j < plan.nbPasses && err == cudaSuccess; ++j)
    {
        int32_t const d = plan.passAxis[j];
        T const* src = j == 0 ? x : buffers[(j - 1) % 2];
        T* dst = j + 1 == plan.nbPasses ? y : buffers[j % 2];
        err = launchPass(src, dst, axisPass(plan, dims, d), plan.cubic, stream);
        dims[d] = plan.out[d];
    }
    return err;
}

} // namespace

size_t resizeWorkspaceBytes(ResizePlan const& plan) noexcept
{
    size_t const buffer = (size_t(largestIntermediate(plan)) * sizeof(float) + kAlign - 1) / kAlign * kAlign;
    return plan.nbPasses > 2 ? 2 * buffer : buffer;
}

cudaError_t launchResizeAntialias(
    DType dtype, ResizePlan const& plan, void const* x, void* y, void* workspace, cudaStream_t stream) noexcept
{
    if (volumeOf(plan, plan.out) == 0)
    {
        return cudaSuccess;
    }
    if (plan.nbPasses == 0)
    {
        return cudaMemcpyAsync(
            y, x, size_t(volumeOf(plan, plan.in)) * dtypeSize(dtype), cudaMemcpyDeviceToDevice, stream);
    }
    return forFloatOrBf16Type(dtype, [&](auto zero) {
        using T = decltype(zero);
        return runPasses(plan, static_cast<T const*>(x), static_cast<T*>(y), workspace, stream);
    });
}

} // namespace trtplug
