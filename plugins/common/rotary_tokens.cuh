// M-RoPE's token grid for the rotary pass (rotary.cu): one work unit per (head chunk, batch, token,
// group of a row) that gathers its token's cos/sin once (three position streams, up to three cache
// rows) and rotates that group in each row of a chunk of heads. The row grid (rotary.cuh) gathers
// them again for each head: on an H100, MRotaryEmbedding's 16-bit rows reached 61% of copy there,
// with 79 registers a thread (35.7% occupancy) and L2 carrying twice the DRAM traffic (ncu, run 17).
// One chunk of all heads measured 86% of copy at 256 MB on an H200 (row grid: 56%) but 32% at
// 16 MB, where its 16k units cannot fill the GPU (run 18): heads are split into chunks that give
// the grid about 512 units a multiprocessor. The default for M-RoPE and RotaryEmbedding (whose one
// cache row a token went from 85-86% to 91-92% of copy, H100, run 19); TRTPLUG_ROTARY_TOKENS=0
// keeps the row grid. tests/rotary_emulation.cu runs every unit of both grids on the host. Host-callable like
// the row grid's units.
#pragma once

#include "common/rotary.cuh"

#include <algorithm>
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
    Index work{0};           //!< chunks * batch * seqLen * unitsPerRow
    Divmod units;            //!< units per row: rotary groups, then copy groups
    Divmod seq;              //!< seqLen
    Divmod chunkWork;        //!< batch * seqLen * unitsPerRow: the units of one head chunk
    int32_t rotaryUnits{0};  //!< (rotaryDim / 2) / kVec
    int32_t chunkHeads{1};   //!< heads per chunk (the last chunk may hold fewer)
};

//! Heads per chunk for a grid of about targetUnits units: heads / (targetUnits / one chunk's
//! units), rounded down, chunks (all heads when one chunk alone comes near the target). More heads
//! a unit gather cos/sin less often; fewer give the GPU more units in flight. Needs
//! rowCount(p) * unitsPerRow(p, kVec) > 0.
inline int32_t tokenChunkHeads(RotaryProblem const& p, int kVec, int64_t targetUnits) noexcept
{
    int64_t const perChunk = int64_t{p.batch} * p.seqLen * unitsPerRow(p, kVec);
    int64_t const chunks = std::min<int64_t>(p.heads, std::max<int64_t>(1, targetUnits / perChunk));
    return static_cast<int32_t>((p.heads + chunks - 1) / chunks);
}

//! The token grid of p in chunks of chunkHeads heads (1..heads).
template <int kVec, bool kWide>
TokenGrid<kWide> tokenGrid(RotaryProblem const& p, int32_t chunkHeads) noexcept
{
    using Divmod = typename TokenGrid<kWide>::Divmod;
    auto const units = static_cast<int32_t>(unitsPerRow(p, kVec));
    int64_t const perChunk = int64_t{p.batch} * p.seqLen * units;
    int64_t const chunks = (p.heads + chunkHeads - 1) / chunkHeads;
    TokenGrid<kWide> g;
    g.work = static_cast<typename TokenGrid<kWide>::Index>(chunks * perChunk);
    g.units = Divmod(units);
    g.seq = Divmod(p.seqLen);
    g.chunkWork = Divmod(static_cast<typename TokenGrid<kWide>::Index>(perChunk));
    g.rotaryUnits = p.rotaryDim / 2 / kVec;
    g.chunkHeads = chunkHeads;
    return g;
}

//! Work unit i: (head chunk, batch, token, group) from i, the chunk outermost so that neighbouring
//! units read neighbouring groups of one head; the group rotated (or, past rotaryDim, copied) in
//! each row of the chunk. Each head's group is read before it is written, so out may alias in.
template <typename T, int kVec, bool kWide>
__host__ __device__ __forceinline__ void tokenUnit(
    RotaryProblem const& p, TokenGrid<kWide> const& g, typename TokenGrid<kWide>::Index i)
{
    using Index = typename TokenGrid<kWide>::Index;
    Index const chunk = g.chunkWork.div(i);
    i -= chunk * g.chunkWork.divisor;
    int64_t const firstHead = static_cast<int64_t>(chunk) * g.chunkHeads;
    int64_t const endHead = firstHead + g.chunkHeads < p.heads ? firstHead + g.chunkHeads : p.heads;
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
        for (int64_t n = firstHead; n < endHead; ++n)
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
    // Two heads' groups loaded before either is stored: a store may alias the input, so the
    // compiler would otherwise wait for each head's load in turn (ncu, H100 run 20: 87% of the
    // cycles on the long scoreboard). Heads never overlap, so loading head n + 1 first is safe.
    int64_t n = firstHead;
    for (; n + 1 < endHead; n += 2)
    {
        PairGroups<kVec> const first = loadPairs<T, kVec>(p, x + n * p.in.headStride, pair);
        PairGroups<kVec> const second = loadPairs<T, kVec>(p, x + (n + 1) * p.in.headStride, pair);
        rotateStorePairs<T, kVec>(p, y + n * p.out.headStride, pair, rotate, c, sn, first);
        rotateStorePairs<T, kVec>(p, y + (n + 1) * p.out.headStride, pair, rotate, c, sn, second);
    }
    if (n < endHead)
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

//! Units the token grid aims for: 512 a multiprocessor. Swept on an H200 (run 18, fp16, Qwen3-VL's
//! 32 heads of 128, batch 4): at 16 MB chunks of 8 heads (64k units) reached 63% of copy where 32
//! heads (16k units) reached 32% and 1 head 36%; at 64 and 256 MB one chunk of 32 heads (65k and
//! 262k units) was best, 72% and 86%. TRTPLUG_ROTARY_TOKEN_HEADS=k fixes the heads per chunk.
inline int32_t tokenChunkHeadsFor(RotaryProblem const& p, int kVec, int smCount) noexcept
{
    char const* fixed = std::getenv("TRTPLUG_ROTARY_TOKEN_HEADS");
    int const k = fixed == nullptr ? 0 : std::atoi(fixed);
    if (k > 0)
    {
        return static_cast<int32_t>(std::min<int64_t>(k, std::max<int64_t>(1, p.heads)));
    }
    return tokenChunkHeads(p, kVec, int64_t{512} * smCount);
}

//! The token grid takes p: M-RoPE and the problems that ask for it (p.preferTokenGrid: RotaryEmbedding)
//! in 16-byte groups over more than one head, unless TRTPLUG_ROTARY_TOKENS=0 (read per launch)
//! keeps the row grid; TRTPLUG_ROTARY_TOKENS=all gives it every rotary problem (GroupQueryAttention's
//! do_rotary too).
inline bool tokenGridApplies(RotaryProblem const& p, int kVec) noexcept
{
    char const* choice = std::getenv("TRTPLUG_ROTARY_TOKENS");
    bool const off = choice != nullptr && std::strcmp(choice, "0") == 0;
    bool const all = choice != nullptr && std::strcmp(choice, "all") == 0;
    return !off && (p.mrope || p.preferTokenGrid || all) && kVec > 1 && p.heads > 1;
}

} // namespace rotary_detail
} // namespace trtplug
