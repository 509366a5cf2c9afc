// The attention core's cuDNN prefill launch (attention_cudnn.h): the query lengths a padding mask
// needs, the zeroed rows of batches without keys, the backend choice, and the scratch it keeps.
// Split from attention_core.cu, which calls prefillOnCudnn before its own kernels.
#include "common/attention_cudnn.h"

#include <cstdio>

namespace trtplug
{
namespace
{

__global__ void fillInt32Kernel(int32_t* out, int32_t value, int32_t count)
{
    int32_t const i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count)
    {
        out[i] = value;
    }
}

//! Zeros the 16-bit output rows of batches with no key (kvValid[b] <= 0), where cuDNN writes NaN and
//! the core zeros (cuDNN takes only zeroFullyMaskedRows problems). One block per (batch, head):
//! a batch that has keys returns at once.
__global__ void zeroRowsWithoutKeysKernel(HeadOutView out, int32_t const* kvValid, int32_t qLen, int32_t headDim)
{
    if (kvValid[blockIdx.x] > 0)
    {
        return;
    }
    auto* base = static_cast<uint16_t*>(out.data) + blockIdx.x * out.batchStride + blockIdx.y * out.headStride;
    for (int64_t i = threadIdx.x; i < static_cast<int64_t>(qLen) * headDim; i += blockDim.x)
    {
        base[(i / headDim) * out.seqStride + i % headDim] = 0;
    }
}

//! With key lengths, cuDNN's padding mask reads per-batch query lengths too: they take the
//! workspace's first bytes (written here, qLen each), cuDNN's own scratch the rest.
cudaError_t cudnnLaunch(AttentionProblem const& p, void* workspace, cudaStream_t stream, char const** reason) noexcept
{
    size_t bytes = attentionWorkspaceSize(p);
    auto* scratch = static_cast<char*>(workspace);
    int32_t* queryLengths = nullptr;
    if (p.kvValid)
    {
        size_t const lengthBytes = (static_cast<size_t>(p.batch) * sizeof(int32_t) + 255) / 256 * 256;
        if (lengthBytes > bytes)
        {
            return cudaErrorNotSupported;
        }
        queryLengths = reinterpret_cast<int32_t*>(scratch);
        fillInt32Kernel<<<(p.batch + 255) / 256, 256, 0, stream>>>(queryLengths, p.qLen, p.batch);
        scratch += lengthBytes;
        bytes -= lengthBytes;
    }
    cudaError_t const err = launchCudnnAttention(p, queryLengths, scratch, bytes, stream, reason);
    if (err == cudaSuccess && p.kvValid)
    {
        zeroRowsWithoutKeysKernel<<<dim3(p.batch, p.qHeads), 256, 0, stream>>>(p.out, p.kvValid, p.qLen, p.headDim);
        return cudaGetLastError();
    }
    return err;
}

} // namespace

bool prefillOnCudnn(AttentionProblem const& p, void* workspace, cudaStream_t stream, cudaError_t& err) noexcept
{
    PrefillBackend const choice = prefillBackendChoice();
    bool const wanted = choice == PrefillBackend::kCudnn
        || (choice == PrefillBackend::kAuto && p.qLen >= kMmaMinRows && cudnnAttentionCompiled());
    if (!wanted || cudnnAttentionInapplicable(p) != nullptr)
    {
        return false;
    }
    char const* reason = nullptr;
    err = cudnnLaunch(p, workspace, stream, &reason);
    if (err == cudaSuccess)
    {
        noteLastPrefillBackend(2);
        return true;
    }
    if (choice == PrefillBackend::kCudnn)
    {
        std::fprintf(stderr, "trtplug: TRTPLUG_ATTENTION_PREFILL=cudnn but cuDNN did not run: %s\n",
            reason ? reason : cudaGetErrorString(err));
        return true;
    }
    return err != cudaErrorNotSupported; // a CUDA error of cuDNN's launch is the launch's error
}

//! The reserve (attention_cudnn.h): its plans asked for 256 bytes on the H100; one asking for more than this leaves the prefill to
//! the kernels), after the query lengths of a padding mask (at most 256 KiB: 65535 batches).
//! cuDNN and the split-KV partials never run in one launch: they share the scratch.
//! `anyExtents`: a reserve for every problem of p's type and head sizes (the bound's question),
//! whatever TRTPLUG_ATTENTION_PREFILL says now: an engine built under `kernel` and run without it
//! must still hold cuDNN's scratch. The exact size follows the variable.
size_t cudnnWorkspaceReserve(AttentionProblem const& p, bool anyExtents) noexcept
{
    constexpr size_t kReserve = size_t{1} << 20;
    if (!cudnnAttentionCompiled())
    {
        return 0;
    }
    if (anyExtents)
    {
        return p.dtype == DType::kFLOAT16 || p.dtype == DType::kBFLOAT16 ? kReserve : 0;
    }
    bool const mayRun = prefillBackendChoice() != PrefillBackend::kKernel && cudnnAttentionInapplicable(p) == nullptr;
    return mayRun ? kReserve : 0;
}

} // namespace trtplug
