// CenterCropPad as rows: the output is viewed as rows of its last axis, each a shifted window of
// one input row (or zeros where the row lies outside x). A thread takes a chunk of V consecutive
// elements of one output row: one multiply-high division for (row, chunk), one per outer axis for
// the source row, then a 16-byte store. The first kernel took one element a thread with a 64-bit
// division per axis: 18-34% of copy and 0.44-0.52x torch on the H200. chunkCopy is host-callable
// for tests/center_crop_pad_emulation.cu.
#pragma once

#include "center_crop_pad/center_crop_pad.h"
#include "common/fast_divmod.cuh"
#include "common/launch.cuh"

#include <climits>

namespace trtplug
{

//! The op's shape, a rank-0 tensor taken as one row of one element.
struct CropPadShape
{
    int32_t rank{1};
    int64_t in[kCenterCropPadMaxRank]{1};
    int64_t out[kCenterCropPadMaxRank]{1};

    bool set(int32_t r, int64_t const* inDims, int64_t const* outDims)
    {
        rank = r > 0 ? r : 1;
        for (int32_t d = 0; d < r; ++d)
        {
            if (inDims[d] < 0 || outDims[d] < 0)
            {
                return false;
            }
            in[d] = inDims[d];
            out[d] = outDims[d];
        }
        return true;
    }
    int64_t inW() const { return in[rank - 1]; }
    int64_t outW() const { return out[rank - 1]; }
    int64_t outVolume() const { return volume(out); }
    bool fitsInt32() const { return volume(out) + 16 <= INT32_MAX && volume(in) + 16 <= INT32_MAX; }
    int64_t volume(int64_t const* dims) const
    {
        int64_t v = 1;
        for (int32_t d = 0; d < rank; ++d)
        {
            v *= dims[d];
        }
        return v;
    }
};

//! What a chunk needs: the outer output extents as dividers, where each outer axis starts in x
//! and how many input rows one step along it skips; the last axis' widths and offset.
template <bool kWide>
struct CropPadRows
{
    using Index = typename IndexMath<kWide>::Index;
    using Signed = typename IndexMath<kWide>::Signed;
    using Divmod = typename IndexMath<kWide>::Divmod;

    int32_t outer; // axes before the last
    Divmod outDim[kCenterCropPadMaxRank];
    Signed inDim[kCenterCropPadMaxRank];
    Signed offset[kCenterCropPadMaxRank]; // (in - out) / 2 toward zero: a crop when > 0, a pad when < 0
    Signed inRows[kCenterCropPadMaxRank];
    Divmod chunksPerRow;
    Index chunks;
    Signed outW, inW, offW;
    bool xAligned; // x 16-byte aligned: chunks whose source is whole and aligned load as vectors
};

template <bool kWide>
CropPadRows<kWide> makeCropPadRows(CropPadShape const& s, int v, bool xAligned)
{
    using G = CropPadRows<kWide>;
    G g{};
    g.outer = s.rank - 1;
    typename G::Signed rows = 1;
    for (int32_t d = g.outer - 1; d >= 0; --d)
    {
        g.outDim[d] = typename G::Divmod(static_cast<typename G::Index>(s.out[d]));
        g.inDim[d] = static_cast<typename G::Signed>(s.in[d]);
        g.offset[d] = static_cast<typename G::Signed>((s.in[d] - s.out[d]) / 2);
        g.inRows[d] = rows;
        rows *= static_cast<typename G::Signed>(s.in[d]);
    }
    int64_t const perRow = (s.outW() + v - 1) / v;
    g.chunksPerRow = typename G::Divmod(static_cast<typename G::Index>(perRow));
    g.chunks = static_cast<typename G::Index>(perRow * (s.outVolume() / s.outW()));
    g.outW = static_cast<typename G::Signed>(s.outW());
    g.inW = static_cast<typename G::Signed>(s.inW());
    g.offW = static_cast<typename G::Signed>((s.inW() - s.outW()) / 2);
    g.xAligned = xAligned;
    return g;
}

//! Output chunk `chunk`: V elements of one row (fewer at a row's end when V does not divide it).
template <class T, int V, bool kWide>
__host__ __device__ __forceinline__ void chunkCopy(T const* x, T* y, CropPadRows<kWide> const& g,
    typename CropPadRows<kWide>::Index chunk)
{
    using Signed = typename CropPadRows<kWide>::Signed;
    auto rest = g.chunksPerRow.div(chunk);
    Signed const row = static_cast<Signed>(rest);
    Signed const j0 = static_cast<Signed>(chunk - rest * g.chunksPerRow.divisor) * V;
    Signed srcRow = 0;
    bool inside = true;
#pragma unroll
    for (int32_t d = kCenterCropPadMaxRank - 1; d >= 0; --d)
    {
        if (d < g.outer)
        {
            auto const next = g.outDim[d].div(rest);
            Signed const c = static_cast<Signed>(rest - next * g.outDim[d].divisor) + g.offset[d];
            rest = next;
            inside = inside && c >= 0 && c < g.inDim[d];
            srcRow += c * g.inRows[d];
        }
    }
    Signed const c0 = j0 + g.offW;
    Signed const src = inside ? srcRow * g.inW + c0 : 0; // an outside row's index may not fit
    Vec<T, V> v;
    if (V > 1 && inside && g.xAligned && c0 >= 0 && c0 + V <= g.inW && src % V == 0)
    {
        v = *reinterpret_cast<Vec<T, V> const*>(x + src);
    }
    else
    {
#pragma unroll
        for (int i = 0; i < V; ++i)
        {
            bool const in = inside && c0 + i >= 0 && c0 + i < g.inW;
            v.v[i] = in ? x[src + i] : T{0};
        }
    }
    T* dst = y + row * g.outW + j0;
    if (V > 1) // V divides outW and y is aligned (launchSized): the chunk is whole
    {
        *reinterpret_cast<Vec<T, V>*>(dst) = v;
        return;
    }
    dst[0] = v.v[0];
}

template <class T, int V, bool kWide>
__global__ void cropPadRows(T const* __restrict__ x, T* __restrict__ y, CropPadRows<kWide> g)
{
    using Index = typename CropPadRows<kWide>::Index;
    for (Index chunk = blockIdx.x * Index{blockDim.x} + threadIdx.x; chunk < g.chunks;
         chunk += Index{gridDim.x} * blockDim.x)
    {
        chunkCopy<T, V, kWide>(x, y, g, chunk);
    }
}

} // namespace trtplug
