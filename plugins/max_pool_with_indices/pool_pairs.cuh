// The 2 x 2 windows at stride 2 most CNNs pool with (pairsApply): a thread takes two adjacent
// outputs, the 4 contiguous elements of each of its 2 input rows as one vector load each, both
// values and both indices as one store each. The generic kernel's per-output window walk, for 18
// bytes an output in 16 bits, was instruction-bound there (67% of copy where fp32, 28 bytes an
// output, reached 86%, H100). Ties and NaNs as its walk: window order, a strict `>`, so a window
// of NaN and -inf gives -inf at index -1. Host and device, so tests/max_pool_pairs_emulation.cu
// runs every pair on the CPU. Included from max_pool_with_indices.cu.
#pragma once

#include "common/fast_divmod.cuh"
#include "common/launch.cuh"
#include "max_pool_with_indices/max_pool_with_indices.h"

#include <cmath>
#include <cstdint>

namespace trtplug
{

//! Launch-constant geometry of the pairs: pair t is pair t % pairsPerRow of output row t /
//! pairsPerRow (plane * outRows + row).
template <bool kWide>
struct PairGeometry
{
    using Index = typename IndexMath<kWide>::Index;
    typename IndexMath<kWide>::Divmod pairsPerRow;
    typename IndexMath<kWide>::Divmod outRows;
    Index inWidth;
    int64_t inPlane; //!< elements of one plane of x
    Index pairs;
};

template <bool kWide>
PairGeometry<kWide> pairGeometry(PoolGeometry const& g, int64_t planes)
{
    using Math = IndexMath<kWide>;
    using Index = typename Math::Index;
    PairGeometry<kWide> geo{};
    geo.pairsPerRow = typename Math::Divmod(static_cast<Index>(g.out[1] / 2));
    geo.outRows = typename Math::Divmod(static_cast<Index>(g.out[0]));
    geo.inWidth = static_cast<Index>(g.in[1]);
    geo.inPlane = g.in[0] * g.in[1];
    geo.pairs = static_cast<Index>(planes * g.out[0] * (g.out[1] / 2));
    return geo;
}

//! Outputs 2t and 2t + 1 with their indices (flat positions in x).
template <class T, bool kWide>
__host__ __device__ __forceinline__ void poolPair(T const* x, T* y, int64_t* indices, PairGeometry<kWide> const& geo,
    typename IndexMath<kWide>::Index t)
{
    using Index = typename IndexMath<kWide>::Index;
    Index const row = geo.pairsPerRow.div(t);
    Index const plane = geo.outRows.div(row);
    Index const outRow = row - plane * geo.outRows.divisor;
    int64_t const top = static_cast<int64_t>(plane) * geo.inPlane + static_cast<int64_t>(outRow) * 2 * geo.inWidth
        + static_cast<int64_t>(t - row * geo.pairsPerRow.divisor) * 4;
    using Quad = Vec<T, 4>;
    Quad const rows[2]
        = {*reinterpret_cast<Quad const*>(x + top), *reinterpret_cast<Quad const*>(x + top + geo.inWidth)};
    Vec<T, 2> values;
    int64_t at[2];
#pragma unroll
    for (int h = 0; h < 2; ++h)
    {
        float best = -INFINITY;
        int win = -1; // window position: row win / 2, column win % 2
#pragma unroll
        for (int w = 0; w < 4; ++w)
        {
            float const v = toFloat(rows[w / 2].v[2 * h + w % 2]);
            win = v > best ? w : win;
            best = v > best ? v : best;
        }
        values.v[h] = fromFloat<T>(best);
        at[h] = win < 0 ? int64_t{-1} : top + (win / 2) * static_cast<int64_t>(geo.inWidth) + 2 * h + win % 2;
    }
    *reinterpret_cast<Vec<T, 2>*>(y + 2 * static_cast<int64_t>(t)) = values;
    *reinterpret_cast<longlong2*>(indices + 2 * static_cast<int64_t>(t)) = make_longlong2(at[0], at[1]);
}

//! The pairs take g: 2-D, 2 x 2 kernel at stride 2, no dilation or leading pad, row-major indices,
//! input rows of 2 x the (even) output width in whole 4-element vectors, every window inside the
//! input, and the buffers aligned for the vectors.
template <class T>
bool pairsApply(PoolGeometry const& g, void const* x, void const* y, int64_t const* indices) noexcept
{
    bool const shape = g.spatial == 2 && !g.columnMajor && g.in[1] % 4 == 0 && g.in[1] == 2 * g.out[1]
        && 2 * g.out[0] <= g.in[0];
    bool window = true;
    for (int32_t d = 0; d < 2 && shape; ++d)
    {
        window = window && g.kernel[d] == 2 && g.stride[d] == 2 && g.dilation[d] == 1 && g.begin[d] == 0;
    }
    return shape && window && isAligned(x, 4 * sizeof(T)) && isAligned(y, 2 * sizeof(T)) && isAligned(indices, 16);
}

} // namespace trtplug
