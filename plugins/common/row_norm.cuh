// Row normalization shared by the norm kernels (SkipLayerNorm, SkipSimplifiedLayerNorm,
// EmbedLayerNorm, RMS norms, GatedRMSNorm): the launch. The kernel, its team reductions and the
// Loader interface are in row_norm_kernel.cuh; here, the team width and registers per thread
// for a row width, and the sub-warp teams' switch. Included only from .cu files.
#pragma once

#include "common/row_norm_kernel.cuh"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace trtplug
{

template <typename T, int N, int kTeam, int kVecs, bool kRms, template <typename, int> class Loader, class Args>
cudaError_t launchConfig(Args const& args, NormOutputs<T> const& out, int64_t rows, int64_t hidden, float epsilon,
    cudaStream_t stream)
{
    constexpr int kThreads = rowNormThreads(kTeam);
    constexpr int kTeamsPerBlock = kThreads / kTeam;
    int64_t const blocks = std::min<int64_t>((rows + kTeamsPerBlock - 1) / kTeamsPerBlock, int64_t{1} << 30);
    rowNormKernel<T, N, kTeam, kVecs, kRms, Loader<T, N>><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        Loader<T, N>(args), out, rows, hidden, epsilon);
    return cudaGetLastError();
}

//! Whether rows of up to 16 vectors take 8- or 16-lane teams instead of a warp (read per launch:
//! TRTPLUG_ROW_NORM_TEAMS=warp turns them off). A warp per 128-element fp16 row (GatedRMSNorm's
//! groups) leaves half its lanes idle: 34-36% of copy on the H200, where fp32 (every lane busy)
//! reached 95%. With the teams, GatedRMSNorm fp16/bf16 at 256 MB went from 50-51% to 86-87% of
//! copy on an H100 (run 17), and their reductions give the warp's results bit for bit (the warp's
//! extra lanes add zeros first; test_subwarp_teams_equal_warp_teams). kSubWarpTeamsByDefault is
//! the one switch.
constexpr bool kSubWarpTeamsByDefault = true;

inline bool subWarpTeams() noexcept
{
    char const* choice = std::getenv("TRTPLUG_ROW_NORM_TEAMS");
    return choice == nullptr ? kSubWarpTeamsByDefault : std::strcmp(choice, "warp") != 0;
}

//! Team width and registers per thread for rows of nVec vectors of N elements: the narrowest
//! team (one warp up to 128 vectors; 8 or 16 lanes up to 16 with subWarpTeams) holding the row in
//! at most 4 vectors per thread, with no idle register slots for the common widths (768: 3 per
//! lane); rows beyond 4096 vectors stream (3 passes over global memory).
template <typename T, int N, bool kRms, template <typename, int> class Loader, class Args>
cudaError_t launchWidth(Args const& args, NormOutputs<T> const& out, int64_t rows, int64_t hidden, float epsilon,
    cudaStream_t stream)
{
    int64_t const nVec = hidden / N;
#define TRTPLUG_ROW_NORM_CONFIG(team, vecs)                                                                            \
    if (nVec <= (team) * (vecs))                                                                                       \
    {                                                                                                                  \
        return launchConfig<T, N, team, vecs, kRms, Loader>(args, out, rows, hidden, epsilon, stream);                 \
    }
    if (subWarpTeams())
    {
        TRTPLUG_ROW_NORM_CONFIG(8, 1)
        TRTPLUG_ROW_NORM_CONFIG(16, 1)
    }
    TRTPLUG_ROW_NORM_CONFIG(32, 1)
    TRTPLUG_ROW_NORM_CONFIG(32, 2)
    TRTPLUG_ROW_NORM_CONFIG(32, 3)
    TRTPLUG_ROW_NORM_CONFIG(32, 4)
    if constexpr (N > 1) // the scalar path (odd or unaligned rows) takes fewer, wider steps
    {
        TRTPLUG_ROW_NORM_CONFIG(64, 3)
        TRTPLUG_ROW_NORM_CONFIG(64, 4)
        TRTPLUG_ROW_NORM_CONFIG(128, 3)
        TRTPLUG_ROW_NORM_CONFIG(128, 4)
    }
    TRTPLUG_ROW_NORM_CONFIG(256, 4)
    TRTPLUG_ROW_NORM_CONFIG(1024, 4)
#undef TRTPLUG_ROW_NORM_CONFIG
    return launchConfig<T, N, 1024, 0, kRms, Loader>(args, out, rows, hidden, epsilon, stream);
}

//! Normalizes `rows` rows of `hidden` elements that Loader<T, N>(args) produces. `vectorizable`:
//! every row buffer is 16-byte aligned and hidden a multiple of 16 / sizeof(T).
template <typename T, bool kRms, template <typename, int> class Loader, class Args>
cudaError_t launchRowNorm(Args const& args, NormOutputs<T> const& out, int64_t rows, int64_t hidden, float epsilon,
    bool vectorizable, cudaStream_t stream)
{
    constexpr int kVec = 16 / sizeof(T);
    if (vectorizable && hidden % kVec == 0)
    {
        return launchWidth<T, kVec, kRms, Loader>(args, out, rows, hidden, epsilon, stream);
    }
    return launchWidth<T, 1, kRms, Loader>(args, out, rows, hidden, epsilon, stream);
}

} // namespace trtplug
