// MoE launcher: the shared pipeline (moe_pipeline.cuh) on the dense expert weights (moe.h).
#include "common/dtype_dispatch.cuh"
#include "moe/moe.h"
#include "moe/moe_pipeline.cuh"

namespace trtplug
{
namespace
{

using namespace moe_detail;

template <typename T>
cudaError_t runMoe(MoeProblem const& p, void* workspace, cudaStream_t stream)
{
    auto const dense = [](void const* w, int64_t depth) { return DenseWeights<T>{static_cast<T const*>(w), depth}; };
    ExpertWeights<DenseWeights<T>> const w{dense(p.fc1, p.hidden), dense(p.fc2, p.inter), dense(p.fc3, p.hidden)};
    return runPipeline<T>(p, w, workspace, stream);
}

} // namespace

cudaError_t launchMoe(DType dtype, MoeProblem const& p, void* workspace, size_t workspaceBytes,
    cudaStream_t stream) noexcept
{
    if (p.tokens == 0 || p.hidden == 0)
        return cudaSuccess;
    if (workspace == nullptr || workspaceBytes < moeWorkspaceBytes(p))
        return cudaErrorInvalidValue;
    return forFloatOrBf16Type(dtype, [&](auto tag) { return runMoe<decltype(tag)>(p, workspace, stream); });
}

} // namespace trtplug
