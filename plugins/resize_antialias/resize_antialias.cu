// The antialiased Resize kernels and launcher: one grid-stride pass per resized axis, or one
// kernel for the last two (resize_plane.cuh); planning is in resize_plan.cu.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "resize_antialias/resize_antialias.h"
#include "resize_antialias/resize_math.cuh"
#include "resize_antialias/resize_plane.cuh"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cmath>

namespace trtplug
{
namespace
{

//! What an output element is: computed per element (resizedValue) or read from a TapTable.
template <bool kCubic>
struct ElementValue
{
    template <class Load>
    __device__ float operator()(AxisPass const& a, int64_t o, Load const& load) const
    {
        return resizedValue<kCubic>(a, o, load);
    }
};

struct TableValue
{
    TapTable table;
    template <class Load>
    __device__ float operator()(AxisPass const& a, int64_t o, Load const& load) const
    {
        return tabledValue(a, table, o, load);
    }
};

//! One output element per thread (grid-stride), consecutive threads on consecutive outputs: the
//! taps of an outer-axis pass are whole coalesced rows; those of the innermost pass fall within
//! a few cache lines per warp, reused from L1 by the next taps and outputs. Index: int32_t when
//! every offset fits (64-bit division costs as much as the loads here).
template <class Index, class TIn, class TOut, class Value>
__global__ void resizeAxisKernel(TIn const* __restrict__ x, TOut* __restrict__ y, AxisPass const a, Value const value)
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
        auto const load = [&](int64_t i) { return resizeLoad(line[static_cast<Index>(i) * inner]); };
        y[idx] = ResizeStore<TOut>::of(value(a, int64_t{o}, load));
    }
}

//! Outputs per thread on an outer-axis pass from tap tables: 16 bytes of fp32 input, 8 elements
//! of the narrower types (fp16/bf16 16 bytes, uint8 8).
template <class TIn>
constexpr int kOuterVector = sizeof(TIn) >= 4 ? 4 : 8;

//! An outer-axis pass (inner > 1) from tap tables, kVec consecutive outputs of one output row per
//! thread: their taps are kVec consecutive inputs of each tap row, so each tap is one vector load
//! and the row's first tap and weights are read once for kVec outputs instead of once each. The
//! scalar kernel spends its instructions on those weight and index loads, not on the data. Each
//! output sums its taps in the scalar path's order: the same bits.
template <class Index, int kVec, class TIn, class TOut>
__global__ void resizeOuterVectorKernel(TIn const* __restrict__ x, TOut* __restrict__ y, AxisPass const a,
    TapTable const table)
{
    Index const innerVecs = static_cast<Index>(a.inner / kVec);
    Index const outLen = static_cast<Index>(a.outLen);
    Index const total = static_cast<Index>(a.outer * a.outLen) * innerVecs;
    int32_t const last = static_cast<int32_t>(a.inLen) - 1;
    for (Index idx = blockIdx.x * Index(blockDim.x) + threadIdx.x; idx < total; idx += Index(gridDim.x) * blockDim.x)
    {
        Index const row = idx / innerVecs;
        Index const in = (idx - row * innerVecs) * kVec;
        Index const outer = row / outLen;
        Index const o = row - outer * outLen;
        int32_t const first = table.first[o];
        float acc[kVec];
#pragma unroll
        for (int e = 0; e < kVec; ++e)
        {
            acc[e] = first == kExtrapolated ? a.extrapolation : 0.F;
        }
        TIn const* line = x + (outer * static_cast<Index>(a.inLen) * static_cast<Index>(a.inner) + in);
        float const* weight = table.weights + o;
        for (int32_t k = 0; k < a.taps && first != kExtrapolated; ++k, weight += a.outLen)
        {
            int32_t const i = first + k < 0 ? 0 : (first + k > last ? last : first + k);
            auto const taps = *reinterpret_cast<Vec<TIn, kVec> const*>(line + static_cast<Index>(i) * a.inner);
            float const w = *weight;
#pragma unroll
            for (int e = 0; e < kVec; ++e)
            {
                acc[e] += w * resizeLoad(taps.v[e]);
            }
        }
        Vec<TOut, kVec> out;
#pragma unroll
        for (int e = 0; e < kVec; ++e)
        {
            out.v[e] = ResizeStore<TOut>::of(acc[e]);
        }
        reinterpret_cast<Vec<TOut, kVec>*>(y)[idx] = out;
    }
}

//! Whether a tabled pass may run resizeOuterVectorKernel: whole vectors along `inner`, and x and
//! y on their vectors' alignment (then every row start is too).
template <class TIn, class TOut>
bool outerVectorApplies(TIn const* x, TOut* y, AxisPass const& a, TapTable const* table)
{
    constexpr int kVec = kOuterVector<TIn>;
    return table != nullptr && a.inner > 1 && a.inner % kVec == 0
        && reinterpret_cast<uintptr_t>(x) % alignof(Vec<TIn, kVec>) == 0
        && reinterpret_cast<uintptr_t>(y) % alignof(Vec<TOut, kVec>) == 0;
}

template <class Index, class TIn, class TOut>
void launchIndexed(TIn const* x, TOut* y, AxisPass const& a, bool cubic, TapTable const* table, int blocks,
    cudaStream_t stream)
{
    if (table != nullptr)
    {
        resizeAxisKernel<Index><<<blocks, kBlockThreads, 0, stream>>>(x, y, a, TableValue{*table});
    }
    else if (cubic)
    {
        resizeAxisKernel<Index><<<blocks, kBlockThreads, 0, stream>>>(x, y, a, ElementValue<true>{});
    }
    else
    {
        resizeAxisKernel<Index><<<blocks, kBlockThreads, 0, stream>>>(x, y, a, ElementValue<false>{});
    }
}

//! One pass; `table` null: the per-element path.
template <class TIn, class TOut>
cudaError_t launchPass(
    TIn const* x, TOut* y, AxisPass const& a, bool cubic, TapTable const* table, cudaStream_t stream)
{
    int64_t const total = a.outer * a.outLen * a.inner;
    if (total == 0)
    {
        return cudaSuccess;
    }
    bool const vectors = outerVectorApplies(x, y, a, table);
    constexpr int kVec = kOuterVector<TIn>;
    int const blocks = gridFor(vectors ? total / kVec : total);
    // The grid-stride loop's last step may pass the count by one grid: keep that within int32 too.
    int64_t const reach = std::max(total, a.outer * a.inLen * a.inner) + int64_t{blocks} * kBlockThreads;
    if (vectors && reach < INT32_MAX)
    {
        resizeOuterVectorKernel<int32_t, kVec><<<blocks, kBlockThreads, 0, stream>>>(x, y, a, *table);
    }
    else if (vectors)
    {
        resizeOuterVectorKernel<int64_t, kVec><<<blocks, kBlockThreads, 0, stream>>>(x, y, a, *table);
    }
    else if (reach < INT32_MAX)
    {
        launchIndexed<int32_t>(x, y, a, cubic, table, blocks, stream);
    }
    else
    {
        launchIndexed<int64_t>(x, y, a, cubic, table, blocks, stream);
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

//! The tap tables of every pass, at the start of the workspace.
struct TapTables
{
    AxisPass pass[ResizePlan::kMaxRank];
    TapTable table[ResizePlan::kMaxRank];
};

//! Room for the tap tables, reserved whatever the dims (TensorRT sizes the workspace for the
//! largest dims, whose tables may be smaller than another shape's). 512 KiB holds the tables of
//! 4K -> 512 x 910 bicubic (~110 KiB) several times over; larger tables take the per-element path.
constexpr size_t kTapTableBytes = size_t{512} << 10;

size_t alignUp(size_t bytes)
{
    return (bytes + kAlign - 1) / kAlign * kAlign;
}

//! Lays the passes' tables out from `base` into `tables` (both may be null: sizes only); the bytes
//! they take, or SIZE_MAX when an axis is past the tables' int32 indices or kTapTableBytes.
size_t layoutTapTables(ResizePlan const& plan, char* base, TapTables* tables)
{
    int64_t dims[ResizePlan::kMaxRank];
    std::copy(plan.in, plan.in + plan.rank, dims);
    size_t used = 0;
    for (int32_t j = 0; j < plan.nbPasses; ++j)
    {
        int32_t const d = plan.passAxis[j];
        AxisPass const a = axisPass(plan, dims, d); // as runPasses builds it: the same table fields
        dims[d] = plan.out[d];
        double const weightBytes = double(a.taps) * double(a.outLen) * sizeof(float);
        if (a.taps <= 0 || a.taps > (1 << 20) || a.inLen > (int64_t{1} << 30) || weightBytes > double(kTapTableBytes))
        {
            return SIZE_MAX;
        }
        size_t const firstBytes = alignUp(size_t(a.outLen) * sizeof(int32_t));
        if (tables != nullptr)
        {
            tables->pass[j] = a;
            tables->table[j] = {reinterpret_cast<int32_t*>(base + used), reinterpret_cast<float*>(base + used + firstBytes)};
        }
        used += firstBytes + alignUp(size_t(weightBytes));
    }
    return used;
}

//! Whether the passes run from tap tables: THE switch between the two paths (per-element when false).
bool tapTablesApply(ResizePlan const& plan)
{
    return layoutTapTables(plan, nullptr, nullptr) <= kTapTableBytes;
}

template <bool kCubic>
__global__ void fillTapTablesKernel(TapTables const tables)
{
    AxisPass const& a = tables.pass[blockIdx.y];
    for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < a.outLen; o += int64_t{gridDim.x} * blockDim.x)
    {
        fillTapRow<kCubic>(a, tables.table[blockIdx.y], o);
    }
}

//! One launch fills every pass's table (grid y = pass): ~outLen threads each, negligible next to
//! the passes.
cudaError_t fillTapTables(ResizePlan const& plan, TapTables& tables, void* workspace, cudaStream_t stream)
{
    layoutTapTables(plan, static_cast<char*>(workspace), &tables);
    int64_t longest = 1;
    for (int32_t j = 0; j < plan.nbPasses; ++j)
    {
        longest = std::max(longest, tables.pass[j].outLen);
    }
    dim3 const grid(static_cast<unsigned>(gridFor(longest)), static_cast<unsigned>(plan.nbPasses));
    if (plan.cubic)
    {
        fillTapTablesKernel<true><<<grid, kBlockThreads, 0, stream>>>(tables);
    }
    else
    {
        fillTapTablesKernel<false><<<grid, kBlockThreads, 0, stream>>>(tables);
    }
    return cudaGetLastError();
}

//! The passes in plan order, x -> scratch -> ... -> y, intermediates of type Mid. A float type's
//! are X's type: float32 stays float32; a 16-bit type halves the traffic between passes at one
//! extra rounding (each pass accumulates in float32). uint8's are float32: onnx.reference rounds
//! and clamps once, at the end. Scratch: the tap tables, then the intermediates (float32 room).
template <class T, class Mid>
cudaError_t runPasses(ResizePlan const& plan, T const* x, T* y, void* workspace, cudaStream_t stream)
{
    bool const useTables = tapTablesApply(plan); // revert to the per-element path: = false
    TapTables tables{};
    cudaError_t err = useTables ? fillTapTables(plan, tables, workspace, stream) : cudaSuccess;
    int64_t const intermediate = largestIntermediate(plan);
    if (err == cudaSuccess && useTables)
    {
        cudaError_t const plane = resize_plane::launchIfChosen(
            plan, tables.pass, tables.table, intermediate * int64_t{sizeof(Mid)}, x, y, stream);
        if (plane != cudaErrorNotSupported)
        {
            return plane;
        }
    }
    char* const scratch = static_cast<char*>(workspace) + kTapTableBytes;
    size_t const bufferBytes = alignUp(size_t(intermediate) * sizeof(float));
    Mid* buffers[2] = {reinterpret_cast<Mid*>(scratch), reinterpret_cast<Mid*>(scratch + bufferBytes)};
    int64_t dims[ResizePlan::kMaxRank];
    std::copy(plan.in, plan.in + plan.rank, dims);
    for (int32_t j = 0; j < plan.nbPasses && err == cudaSuccess; ++j)
    {
        int32_t const d = plan.passAxis[j];
        AxisPass const a = axisPass(plan, dims, d);
        TapTable const* table = useTables ? &tables.table[j] : nullptr;
        bool const first = j == 0;
        bool const last = j + 1 == plan.nbPasses;
        Mid const* src = first ? nullptr : buffers[(j - 1) % 2];
        Mid* dst = last ? nullptr : buffers[j % 2];
        err = first && last ? launchPass(x, y, a, plan.cubic, table, stream)
            : first         ? launchPass(x, dst, a, plan.cubic, table, stream)
            : last          ? launchPass(src, y, a, plan.cubic, table, stream)
                            : launchPass(src, dst, a, plan.cubic, table, stream);
        dims[d] = plan.out[d];
    }
    return err;
}

} // namespace

size_t resizeWorkspaceBytes(ResizePlan const& plan) noexcept
{
    size_t const buffer = alignUp(size_t(largestIntermediate(plan)) * sizeof(float));
    return kTapTableBytes + (plan.nbPasses > 2 ? 2 * buffer : buffer);
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
    if (dtype == DType::kUINT8)
    {
        auto const* in = static_cast<uint8_t const*>(x);
        return runPasses<uint8_t, float>(plan, in, static_cast<uint8_t*>(y), workspace, stream);
    }
    return forFloatOrBf16Type(dtype, [&](auto zero) {
        using T = decltype(zero);
        return runPasses<T, T>(plan, static_cast<T const*>(x), static_cast<T*>(y), workspace, stream);
    });
}

} // namespace trtplug
