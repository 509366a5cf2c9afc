// M-RoPE's token grid for the rotary pass (rotary.cu): one work unit per (batch, token, group of a
// row) that gathers its token's cos/sin once (three position streams, up to three cache rows) and
// rotates that group in every head's row. The row grid (rotary.cuh) gathers them again for each
// head: on an H100, MRotaryEmbedding's 16-bit rows reached 61% of copy there, with 79 registers a
// thread (35.7% occupancy) and L2 carrying twice the DRAM traffic (ncu, run 17). Opt-in
// (TRTPLUG_ROTARY_TOKENS=1, read per launch) until a GPU has run it; tests/rotary_emulation.cu runs
// every unit of both grids on the host. Host-callable like the row grid's units.
#pragma once

#include "common/rotary.cuh"

#include <cstdlib>
#include <cstring>

namespace trtplug
{
namespace rotary_detail
{

template <bool kWide>
struct TokenGrid
{
    using Index = typename IndexMath<kWide>::Index;
    using Divmod = typename IndexMath<kWide>::Divmod;
    Index work{0};          //!< batch * seqLen * unitsPerRow
    Divmod units;           //!< units per row: rotary groups, then copy groups
    Divmod seq;             //!< seqLen
    int32_t rotaryUnits{0}; //!< (rotaryDim / 2) / kVec
};

//! The token grid of p. Needs rowCount(p) * unitsPerRow(p, kVec) > 0.
template <int kVec, bool kWide>
TokenGrid<kWide> tokenGrid(RotaryProblem const& p) noexcept
{
    using Divmod = typename TokenGrid<kWide>::Divmod;
    auto const units = static_cast<int32_t>(unitsPerRow(p, kVec));
    TokenGrid<kWide> g;
    g.work = static_cast<typename TokenGrid<kWide>::Index>(int64_t{p.batch} * p.seqLen * units);
    g.units = Divmod(units);
    g.seq = Divmod(p.seqLen);
    g.rotaryUnits = p.rotaryDim / 2 / kVec;
    return g;
}

//! Work unit i: (batch, token, group) from i; the group rotated (or, past rotaryDim, copied) in
//! every head's row. Each head's group is read before it is written, so out may alias in.
template <typename T, int kVec, bool kWide>
__host__ __device__ __forceinline__ void tokenUnit(
    RotaryProblem const& p, TokenGrid<kWide> const& g, typename TokenGrid<kWide>::Index i)
{
    using Index = typename TokenGrid<kWide>::Index;
    Index const token = g.units.div(i);
    auto const unit = static_cast<int32_t>(i - token * g.units.divisor);
    Index const batch = g.seq.div(token);
    auto const b = static_cast<int64_t>(batch);
    auto const s = static_cast<int64_t>(token - batch * g.seq.divisor);
    T const* x = static_cast<T const*>(p.in.data) + b * p.in.batchStride + s * p.in.seqStride;
    T* y = static_cast<T*>(p.out.data) + b * p.out.batchStride + s * p.out.seqStride;
    if (unit >= g.rotaryUnits)
    {
        int32_t const d = p.rotaryDim + (unit - g.rotaryUnits) * kVec;
        for (int64_t n = 0; n < p.heads; ++n)
        {
            *reinterpret_cast<Vec<T, kVec>*>(y + n * p.out.headStride + d)
                = *reinterpret_cast<Vec<T, kVec> const*>(x + n * p.in.headStride + d);
        }
        return;
    }
    int32_t const pair = unit * kVec;
    CacheRows const rows = cacheRows(p, b, s);
    bool const rotate = rows.rows[0] >= 0;
    float c[kVec] = {};
    float sn[kVec] = {};
    if (rotate)
    {
        loadCache<T, kVec>(p, rows, pair, c, sn);
    }
    for (int64_t n = 0; n < p.heads; ++n)
    {
        rotatePairs<T, kVec>(p, x + n * p.in.headStride, y + n * p.out.headStride, pair, rotate, c, sn);
    }
}

//! Grid-stride over the token grid's work.
template <typename T, int kVec, bool kWide>
__global__ void rotaryTokenKernel(RotaryProblem const p, TokenGrid<kWide> const g)
{
    using Index = typename TokenGrid<kWide>::Index;
    for (Index i = blockIdx.x * Index{blockDim.x} + threadIdx.x; i < g.work; i += Index{gridDim.x} * blockDim.x)
    {
        tokenUnit<T, kVec, kWide>(p, g, i);
    }
}

//! kTokenGridByDefault is the one switch; until then TRTPLUG_ROTARY_TOKENS=1 turns it on.
constexpr bool kTokenGridByDefault = false;

//! The token grid takes p: M-RoPE in 16-byte groups over more than one head.
inline bool tokenGridApplies(RotaryProblem const& p, int kVec) noexcept
{
    char const* choice = std::getenv("TRTPLUG_ROTARY_TOKENS");
    bool const on = choice == nullptr ? kTokenGridByDefault : std::strcmp(choice, "1") == 0;
    return on && p.mrope && kVec > 1 && p.heads > 1;
}

} // namespace rotary_detail
} // namespace trtplug
