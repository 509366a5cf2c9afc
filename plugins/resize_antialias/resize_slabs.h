// Slabs of an antialiased Resize (host only, included by resize_antialias.cu): the passes run slab
// by slab over the leading axes that no pass resizes (N and C of an NCHW image resize), so that
// a slab's intermediate is read back by the next pass while it is still in L2. Run over the whole
// tensor at once, the intermediate of 8x3x2160x3840 -> 512x910 in float32 (189 MB) goes to memory
// and back: 378 MB of the 1.22 GB the two passes move.
#pragma once

#include "common/launch.cuh"
#include "resize_antialias/resize_antialias.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace trtplug
{

//! The leading units (the product of the axes before the first resized one) and how many of them
//! one slab takes.
struct ResizeSlabs
{
    int64_t lead{1};
    int64_t perSlab{1};
};

//! Intermediate bytes one slab may hold: a third of L2 (the slab's input streams through L2 beside
//! it), or TRTPLUG_RESIZE_SLAB_BYTES (read per launch: tests make slabs of one unit with it).
inline int64_t slabBudgetBytes() noexcept
{
    if (char const* given = std::getenv("TRTPLUG_RESIZE_SLAB_BYTES"))
    {
        return std::max<int64_t>(1, std::atoll(given));
    }
    return cachedDeviceAttribute<cudaDevAttrL2CacheSize>(48 << 20) / 3;
}

//! The slabs for `plan` whose largest intermediate is `intermediateBytes` over the whole tensor:
//! one slab (the whole tensor) when that fits the budget or nothing leads the resized axes.
inline ResizeSlabs planSlabs(ResizePlan const& plan, int64_t intermediateBytes) noexcept
{
    ResizeSlabs s;
    int32_t first = plan.rank;
    for (int32_t j = 0; j < plan.nbPasses; ++j)
    {
        first = std::min(first, plan.passAxis[j]);
    }
    for (int32_t i = 0; i < first; ++i)
    {
        s.lead *= plan.in[i];
    }
    s.perSlab = s.lead;
    int64_t const budget = slabBudgetBytes();
    if (plan.nbPasses > 1 && s.lead > 1 && intermediateBytes > budget)
    {
        int64_t const unitBytes = intermediateBytes / s.lead;
        s.perSlab = std::max<int64_t>(1, std::min(s.lead, budget / std::max<int64_t>(1, unitBytes)));
    }
    return s;
}

} // namespace trtplug
