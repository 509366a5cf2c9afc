// Where MoE's scratch lives in the workspace: one layout function, so the size asked for at build
// time and the pointers a launch uses cannot disagree. Every block starts 256-byte aligned.
#pragma once

#include "moe/moe.h"

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! Byte offsets of each scratch array (counts in elements noted beside them); `total` the sum.
struct MoeLayout
{
    size_t routeExpert{0}; //!< int32 [routes]: the expert of each (token, slot)
    size_t routeWeight{0}; //!< float [routes]: its routing weight
    size_t routeRow{0};    //!< int32 [routes]: its row in the expert-grouped order
    size_t rowRoute{0};    //!< int32 [routes]: the route of each grouped row
    size_t counts{0};      //!< int32 [experts]: routes per expert, then a fill cursor [experts]
    size_t rowStart{0};    //!< int32 [experts + 1]: first grouped row of each expert
    size_t tileStart{0};   //!< int32 [experts + 1]: first GEMM tile of each expert
    size_t fc1Out{0};      //!< float [routes, max(fc1Cols, hidden)]: fc1's output, later fc2's
    size_t fc3Out{0};      //!< float [routes, inter]: fc3's output (when fc3 is given)
    size_t act{0};         //!< [routes, inter] of the run's dtype (float room): the activation, fc2's A
    size_t total{0};
};

inline MoeLayout moeLayout(MoeProblem const& p) noexcept
{
    auto const r = static_cast<size_t>(p.routes());
    auto const e = static_cast<size_t>(p.experts);
    size_t at = 0;
    auto take = [&at](size_t bytes) {
        size_t const here = at;
        at += (bytes + 255) / 256 * 256;
        return here;
    };
    MoeLayout l;
    l.routeExpert = take(r * 4);
    l.routeWeight = take(r * 4);
    l.routeRow = take(r * 4);
    l.rowRoute = take(r * 4);
    l.counts = take(2 * e * 4);
    l.rowStart = take((e + 1) * 4);
    l.tileStart = take((e + 1) * 4);
    size_t const wide = static_cast<size_t>(p.fc1Cols > p.hidden ? p.fc1Cols : p.hidden);
    l.fc1Out = take(r * wide * 4);
    l.fc3Out = take(p.hasFc3 ? r * static_cast<size_t>(p.inter) * 4 : 0);
    l.act = take(r * static_cast<size_t>(p.inter) * 4);
    l.total = at;
    return l;
}

} // namespace trtplug
