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

bool parseCoord(std::string const& name, ResizeCoord& coord)
{
    static char const* const kNames[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_crop_and_resize"};
    for (int32_t i = 0; i < 6; ++i)
    {
        if (name == kNames[i])
        {
            coord = static_cast<ResizeCoord>(i);
            return true;
        }
    }
    return false;
}

//! The resized axes (all of them without `axes`), normalised; the problem or "".
std::string resizedAxes(int32_t rank, std::vector<int32_t> const& given, int32_t* axes, int32_t& count)
{
    count = given.empty() ? rank : static_cast<int32_t>(given.size());
    if (count > rank)
    {
        return "attribute 'axes' has more values than X has axes";
    }
    for (int32_t i = 0; i < count; ++i)
    {
        int32_t const a = given.empty() ? i : given[i];
        if (a < -rank || a >= rank)
        {
            return "attribute 'axes': axis " + std::to_string(a) + " out of range for X of rank " + std::to_string(rank);
        }
        axes[i] = a < 0 ? a + rank : a;
        for (int32_t j = 0; j < i; ++j)
        {
            if (axes[j] == axes[i])
            {
                return "attribute 'axes' repeats axis " + std::to_string(axes[i]);
            }
        }
    }
    return "";
}

bool isIdentity(ResizePlan const& plan, int32_t d)
{
    double const s = plan.scale[d];
    return std::fabs(s - 1.0) <= 1e-9 * std::max(1.0, std::fabs(s)) && plan.out[d] == plan.in[d]
        && plan.roiStart[d] == 0.F && plan.roiEnd[d] == 1.F;
}

//! Resized axes in pass order: the most shrunk first (smallest intermediates); ties outermost
//! first, so that the big first pass reads whole rows per tap (coalesced) and the strided
//! innermost-axis windows fall on the smaller tensor.
void orderPasses(ResizePlan& plan)
{
    plan.nbPasses = 0;
    for (int32_t d = 0; d < plan.rank; ++d)
    {
        if (!isIdentity(plan, d))
        {
            plan.passAxis[plan.nbPasses++] = d;
        }
    }
    auto ratio = [&](int32_t d) { return plan.in[d] > 0 ? double(plan.out[d]) / double(plan.in[d]) : 0.0; };
    std::stable_sort(plan.passAxis, plan.passAxis + plan.nbPasses,
        [&](int32_t a, int32_t b) { return ratio(a) < ratio(b); });
}

//! Scales and output lengths from scales or sizes (and keep_aspect_ratio_policy); the problem or "".
std::string planScales(
    ResizePlan& plan, int32_t const* axes, int32_t nbAxes, glue_resize_antialias::Params const& p)
{
    bool const hasScales = !p.scales.empty();
    for (int32_t i = 0; i < nbAxes; ++i)
    {
        int32_t const a = axes[i];
        if (hasScales)
        {
            if (!(p.scales[i] > 0.F))
            {
                return "scales must be > 0, got " + std::to_string(p.scales[i]);
            }
            plan.scale[a] = p.scales[i];
            plan.out[a] = static_cast<int64_t>(std::floor(plan.scale[a] * double(plan.in[a])));
        }
        else
        {
            plan.scale[a] = plan.in[a] > 0 ? double(p.sizes[i]) / double(plan.in[a]) : 0.0;
            plan.out[a] = p.sizes[i];
        }
    }
    std::string const& policy = p.keep_aspect_ratio_policy;
    if (!hasScales && policy != "stretch")
    {
        double common = plan.scale[axes[0]];
        for (int32_t i = 1; i < nbAxes; ++i)
        {
            common = policy == "not_larger" ? std::min(common, plan.scale[axes[i]]) : std::max(common, plan.scale[axes[i]]);
        }
        for (int32_t i = 0; i < nbAxes; ++i)
        {
            plan.scale[axes[i]] = common;
            plan.out[axes[i]] = static_cast<int64_t>(common * double(plan.in[axes[i]]) + 0.5);
        }
    }
    for (int32_t i = 0; i < nbAxes; ++i)
    {
        if (plan.in[axes[i]] == 0 && plan.out[axes[i]] != 0)
        {
            return "cannot resize empty axis " + std::to_string(axes[i]) + " to " + std::to_string(plan.out[axes[i]]);
        }
    }
    return "";
}

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

std::string planResize(ResizePlan& plan, TensorShape const& x, glue_resize_antialias::Params const& p)
{
    plan = ResizePlan{};
    if (x.rank < 1 || x.rank > ResizePlan::kMaxRank)
    {
        return "X must have rank 1.." + std::to_string(ResizePlan::kMaxRank);
    }
    if (p.mode != "linear" && p.mode != "cubic")
    {
        return "attribute 'mode' must be linear or cubic (antialias applies to those), got '" + p.mode + "'";
    }
    if (!parseCoord(p.coordinate_transformation_mode, plan.coord))
    {
        return "attribute 'coordinate_transformation_mode': unsupported '" + p.coordinate_transformation_mode + "'";
    }
    plan.rank = x.rank;
    plan.cubic = p.mode == "cubic";
    plan.cubicA = p.cubic_coeff_a;
    plan.excludeOutside = p.exclude_outside != 0;
    plan.extrapolation = p.extrapolation_value;
    int32_t axes[ResizePlan::kMaxRank]{};
    int32_t nbAxes = 0;
    std::string problem = resizedAxes(x.rank, p.axes, axes, nbAxes);
    if (!problem.empty())
    {
        return problem;
    }
    if (p.scales.empty() == p.sizes.empty())
    {
        return "exactly one of scales and sizes must be given";
    }
    size_t const given = p.scales.empty() ? p.sizes.size() : p.scales.size();
    if (given != size_t(nbAxes) || (!p.roi.empty() && p.roi.size() != 2 * size_t(nbAxes)))
    {
        return "scales or sizes need one value per resized axis (" + std::to_string(nbAxes) + "), roi two";
    }
    if (plan.coord == ResizeCoord::kTF_CROP_AND_RESIZE && p.roi.empty())
    {
        return "coordinate_transformation_mode 'tf_crop_and_resize' needs roi";
    }
    for (int32_t d = 0; d < x.rank; ++d)
    {
        plan.in[d] = plan.out[d] = x.d[d];
        plan.scale[d] = 1.0;
        plan.roiEnd[d] = 1.F;
    }
    for (int32_t i = 0; i < nbAxes; ++i)
    {
        plan.listed[axes[i]] = true;
    }
    for (int32_t i = 0; i < nbAxes && !p.roi.empty(); ++i)
    {
        plan.roiStart[axes[i]] = p.roi[i];
        plan.roiEnd[axes[i]] = p.roi[nbAxes + i];
    }
    problem = planScales(plan, axes, nbAxes, p);
    orderPasses(plan);
    return problem;
}

std::string checkResizeOutput(ResizePlan const& plan, TensorShape const& y)
{
    bool same = y.rank == plan.rank;
    std::string expected;
    for (int32_t d = 0; d < plan.rank; ++d)
    {
        same = same && y.d[d] == plan.out[d];
        expected += (d ? ", " : "") + std::to_string(plan.out[d]);
    }
    return same ? "" : "Y must have shape (" + expected + ")";
}

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
