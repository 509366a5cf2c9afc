// MoE's pipeline, for any expert weights (moe_weights.cuh: MoE's dense ones, QMoE's quantized ones):
// route and group (moe_kernels.cuh), fc1 (+ fc3) as grouped GEMMs with the bias fused, the
// activation, fc2, and the per-token combine. Included by moe.cu and qmoe/qmoe.cu, which each
// instantiate it for their weights.
#pragma once

#include "moe/moe.h"
#include "moe/moe_gemm.cuh"
#include "moe/moe_gemm_tc.cuh"
#include "moe/moe_gemv.cuh"
#include "moe/moe_kernels.cuh"
#include "moe/moe_layout.h"
#include "moe/moe_weights.cuh"

#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace trtplug
{
namespace moe_detail
{

//! The scratch arrays of one call, at moeLayout's offsets.
struct Scratch
{
    int32_t* routeExpert;
    float* routeWeight;
    int32_t* routeRow;
    int32_t* rowRoute;
    int32_t* counts; //!< [experts] counts, then [experts] fill cursors
    int32_t* rowStart;
    int32_t* tileStart;
    float* fc1Out;
    float* fc3Out;
    void* act; //!< the activation in the run's dtype (fc2's A operand)

    Scratch(MoeProblem const& p, void* workspace)
    {
        MoeLayout const l = moeLayout(p);
        auto* base = static_cast<char*>(workspace);
        routeExpert = reinterpret_cast<int32_t*>(base + l.routeExpert);
        routeWeight = reinterpret_cast<float*>(base + l.routeWeight);
        routeRow = reinterpret_cast<int32_t*>(base + l.routeRow);
        rowRoute = reinterpret_cast<int32_t*>(base + l.rowRoute);
        counts = reinterpret_cast<int32_t*>(base + l.counts);
        rowStart = reinterpret_cast<int32_t*>(base + l.rowStart);
        tileStart = reinterpret_cast<int32_t*>(base + l.tileStart);
        fc1Out = reinterpret_cast<float*>(base + l.fc1Out);
        fc3Out = p.hasFc3 ? reinterpret_cast<float*>(base + l.fc3Out) : nullptr;
        act = base + l.act;
    }
};

//! Top-k routes per token, then each route's row in its expert's group.
template <typename T>
cudaError_t routeAndGroup(MoeProblem const& p, Scratch const& s, int32_t tileRows, cudaStream_t stream)
{
    auto const experts = static_cast<int32_t>(p.experts);
    cudaError_t err = cudaMemsetAsync(s.counts, 0, sizeof(int32_t) * experts, stream);
    if (err != cudaSuccess)
        return err;
    int64_t const warpsPerBlock = kBlockThreads / 32;
    auto const routeBlocks = static_cast<unsigned>((p.tokens + warpsPerBlock - 1) / warpsPerBlock);
    routeKernel<T><<<routeBlocks, kBlockThreads, 0, stream>>>(static_cast<T const*>(p.router),
        static_cast<T const*>(p.routerWeights), p.tokens, experts, p.k, p.normalize, s.routeExpert, s.routeWeight,
        s.counts);
    offsetsKernel<<<1, 1, 0, stream>>>(s.counts, experts, tileRows, s.rowStart, s.tileStart);
    placeKernel<<<gridFor(p.routes()), kBlockThreads, 0, stream>>>(
        s.routeExpert, p.routes(), experts, s.rowStart, s.counts + experts, s.routeRow, s.rowRoute);
    return cudaGetLastError();
}

template <typename T, typename W>
GroupedGemmArgs<T, W> gemmArgs(MoeProblem const& p, Scratch const& s, void const* a, int64_t lda, bool gather,
    W const& b, void const* bias, float* c, int64_t n, int64_t depth)
{
    return GroupedGemmArgs<T, W>{static_cast<T const*>(a), lda, gather ? s.rowRoute : nullptr, p.k, b,
        static_cast<T const*>(bias), c, n, depth, s.rowStart, s.tileStart, static_cast<int32_t>(p.experts)};
}

enum class GemmPath
{
    kGemv,        //!< decode: a warp per output column, tiles of kGemvRows routes
    kTensorCores, //!< fp16/bf16 tiles on WMMA
    kSimt,        //!< float32 tiles on CUDA cores (no TF32: fp32 results stay fp32-exact)
};

struct GemmPlan
{
    GemmPath path;
    int32_t tileRows;
};

//! Tiles of 16 rows up to 32 routes per expert on average, then 64: WMMA for fp16/bf16, CUDA cores
//! for fp32. TRTPLUG_MOE_GEMM=gemv|tc|simt (read per launch) forces a path, for A/B tests and
//! measurements. The GEMV (meant for decode: routes averaging <= 2 per expert, each expert's
//! weights read about once) is opt-in until a GPU run has checked and timed it: it was written
//! after the session's device time was spent (the tile paths passed on an H100).
template <typename T>
GemmPlan planFor(MoeProblem const& p)
{
    constexpr bool kFloat = std::is_same_v<T, float>;
    GemmPath path = kFloat ? GemmPath::kSimt : GemmPath::kTensorCores;
    if (char const* choice = std::getenv("TRTPLUG_MOE_GEMM"))
    {
        path = std::strcmp(choice, "gemv") == 0     ? GemmPath::kGemv
            : std::strcmp(choice, "simt") == 0      ? GemmPath::kSimt
            : std::strcmp(choice, "tc") == 0 && !kFloat ? GemmPath::kTensorCores
                                                    : path;
    }
    int32_t const tiles = p.routes() <= 32 * p.experts ? 16 : 64;
    return GemmPlan{path, path == GemmPath::kGemv ? kGemvRows : tiles};
}

template <typename T, typename W>
cudaError_t gemm(GroupedGemmArgs<T, W> const& g, GemmPlan plan, int64_t maxTiles, cudaStream_t stream)
{
    switch (plan.path)
    {
    case GemmPath::kGemv: return launchGroupedGemv(g, maxTiles, stream);
    case GemmPath::kTensorCores:
        if constexpr (!std::is_same_v<T, float>)
            return launchGroupedGemmTc(g, plan.tileRows, maxTiles, stream);
        [[fallthrough]];
    default: return launchGroupedGemm(g, plan.tileRows, maxTiles, stream);
    }
}

//! The expert weights of fc1, fc2 and fc3 (fc3 read only when p.hasFc3).
template <typename W>
struct ExpertWeights
{
    W fc1, fc2, fc3;
};

//! output for `p` with the experts' weights `w`; the workspace holds moeWorkspaceBytes(p).
template <typename T, typename W>
cudaError_t runPipeline(MoeProblem const& p, ExpertWeights<W> const& w, void* workspace, cudaStream_t stream)
{
    Scratch const s(p, workspace);
    GemmPlan const plan = planFor<T>(p);
    int64_t const maxTiles = (p.routes() + plan.tileRows - 1) / plan.tileRows + p.experts;
    cudaError_t err = routeAndGroup<T>(p, s, plan.tileRows, stream);
    if (err == cudaSuccess)
        err = gemm(gemmArgs<T>(p, s, p.input, p.hidden, true, w.fc1, p.fc1Bias, s.fc1Out, p.fc1Cols, p.hidden),
            plan, maxTiles, stream);
    if (err == cudaSuccess && p.hasFc3)
        err = gemm(gemmArgs<T>(p, s, p.input, p.hidden, true, w.fc3, p.fc3Bias, s.fc3Out, p.inter, p.hidden),
            plan, maxTiles, stream);
    if (err != cudaSuccess)
        return err;
    ActivationArgs<T> const act{s.fc1Out, s.fc3Out, static_cast<T*>(s.act), p.routes(), p.inter, p.fc1Cols,
        p.activation, p.swigluFusion, p.alpha, p.beta, p.limit};
    if (p.inter > 0)
        activationKernel<T><<<gridFor(p.routes() * p.inter), kBlockThreads, 0, stream>>>(act);
    // fc2's output reuses fc1's buffer (sized for the wider of the two).
    err = gemm(gemmArgs<T>(p, s, s.act, p.inter, false, w.fc2, p.fc2Bias, s.fc1Out, p.hidden, p.inter), plan,
        maxTiles, stream);
    if (err != cudaSuccess)
        return err;
    combineKernel<T><<<gridFor(p.tokens * p.hidden), kBlockThreads, 0, stream>>>(
        s.fc1Out, s.routeRow, s.routeWeight, p.tokens, p.hidden, p.k, static_cast<T*>(p.output));
    return cudaGetLastError();
}

} // namespace moe_detail
} // namespace trtplug
