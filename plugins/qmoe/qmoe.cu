// QMoE launcher: MoE's pipeline (moe/moe_pipeline.cuh) on quantized expert weights (qmoe.h).
#include "common/dtype_dispatch.cuh"
#include "moe/moe_pipeline.cuh"
#include "qmoe/qmoe.h"

namespace trtplug
{
namespace
{

using namespace moe_detail;

//! The GEMM view of one projection's [experts, n, depth] codes.
template <typename T>
QuantWeights<T> quantWeights(QmoeProjection const& q, int64_t n, int64_t depth, int64_t blockSize) noexcept
{
    bool const columnwise = blockSize == 0;
    int64_t const block = columnwise ? (depth > 0 ? depth : 1) : blockSize;
    int64_t const blocks = columnwise ? 1 : depth / blockSize;
    int64_t const zeroCodes = columnwise ? n : blocks; // codes per packed zero-point row
    return QuantWeights<T>{static_cast<uint8_t const*>(q.codes), static_cast<T const*>(q.scales),
        static_cast<uint8_t const*>(q.zeroPoints), depth, n, block, blocks, qmoePackedBytes(zeroCodes, q.bits), q.bits,
        columnwise};
}

//! The GEMM view of one MXFP4 projection: codes [experts, depth, n / 2], scales [experts, n, depth / 32].
Mxfp4Weights mxfp4Weights(QmoeProjection const& q, int64_t n, int64_t depth) noexcept
{
    return Mxfp4Weights{static_cast<uint8_t const*>(q.codes), static_cast<uint8_t const*>(q.scales),
        static_cast<float const*>(q.globalScales), depth, n};
}

template <typename T>
cudaError_t runQmoe(QmoeProblem const& q, void* workspace, cudaStream_t stream)
{
    MoeProblem const& p = q.moe;
    if (q.mxfp4)
    {
        // No fc3 (qmoeCheckShapes refuses it): its view is fc1's, never read.
        ExpertWeights<Mxfp4Weights> const w{mxfp4Weights(q.fc1, p.fc1Cols, p.hidden),
            mxfp4Weights(q.fc2, p.hidden, p.inter), mxfp4Weights(q.fc1, p.fc1Cols, p.hidden)};
        return runPipeline<T>(p, w, workspace, stream);
    }
    ExpertWeights<QuantWeights<T>> const w{quantWeights<T>(q.fc1, p.fc1Cols, p.hidden, q.blockSize),
        quantWeights<T>(q.fc2, p.hidden, p.inter, q.blockSize), quantWeights<T>(q.fc3, p.inter, p.hidden, q.blockSize)};
    return runPipeline<T>(p, w, workspace, stream);
}

} // namespace

cudaError_t launchQmoe(DType dtype, QmoeProblem const& p, void* workspace, size_t workspaceBytes,
    cudaStream_t stream) noexcept
{
    if (p.moe.tokens == 0 || p.moe.hidden == 0)
        return cudaSuccess;
    if (workspace == nullptr || workspaceBytes < moeWorkspaceBytes(p.moe))
        return cudaErrorInvalidValue;
    return forFloatOrBf16Type(dtype, [&](auto tag) { return runQmoe<decltype(tag)>(p, workspace, stream); });
}

} // namespace trtplug
