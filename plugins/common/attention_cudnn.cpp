// The cuDNN prefill backend's rules (attention_cudnn.h); the graph and library loading live in
// attention_cudnn_graph.cpp, compiled only with cuDNN headers (TRTPLUG_HAVE_CUDNN). Without them
// the stub below says unavailable.
#include "common/attention_cudnn.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>


namespace trtplug
{
namespace
{

std::atomic<int32_t> gLastPrefillBackend{0};

bool aligned16(void const* data, int64_t batchStride, int64_t headStride, int64_t seqStride) noexcept
{
    return reinterpret_cast<uintptr_t>(data) % 16 == 0 && batchStride % 8 == 0 && headStride % 8 == 0
        && seqStride % 8 == 0;
}

} // namespace

PrefillBackend prefillBackendChoice() noexcept
{
    char const* choice = std::getenv("TRTPLUG_ATTENTION_PREFILL");
    if (choice != nullptr && std::strcmp(choice, "kernel") == 0)
    {
        return PrefillBackend::kKernel;
    }
    if (choice != nullptr && std::strcmp(choice, "cudnn") == 0)
    {
        return PrefillBackend::kCudnn;
    }
    return PrefillBackend::kAuto; // unset or auto
}

char const* cudnnAttentionInapplicable(AttentionProblem const& p) noexcept
{
    if (p.dtype != DType::kFLOAT16 && p.dtype != DType::kBFLOAT16)
    {
        return "cuDNN attention takes float16 or bfloat16";
    }
    if (p.headDim != p.vHeadDim || p.headDim % 8 != 0 || p.headDim < 8 || p.headDim > 128)
    {
        return "cuDNN attention needs equal head sizes 8..128 in steps of 8";
    }
    if (p.mask.data || p.bias.data || p.softcap > 0.F || p.windowLeft >= 0 || p.headSink || p.smoothSoftmax)
    {
        return "cuDNN attention takes no mask, bias, softcap, local window or sink";
    }
    if (p.qLen < 1 || p.kvLen < 1 || p.batch < 1 || p.qHeads < 1 || p.kvHeads < 1 || p.qHeads % p.kvHeads != 0)
    {
        return "cuDNN attention needs at least one query, key, batch and head (query heads a multiple of kv heads)";
    }
    if (p.kvValid && !p.zeroFullyMaskedRows)
    {
        return "the problem asks for NaN rows where a batch has no key (the core zeros cuDNN's)";
    }
    bool const fromZero = cudnnStartsAtZero(p);
    if (p.causal && !fromZero && (p.kvValid || p.qStart))
    {
        // Per-batch positions: only "every query row i at key i" (cuDNN's top-left diagonal, with
        // the key lengths as its padding mask) is known to match without reading the device.
        return "cuDNN causal attention with per-batch lengths or query starts needs queries from position 0";
    }
    if (p.causal && !fromZero && p.qLen > p.kvLen)
    {
        // The core puts query i at key position kvLen - qLen + i: cuDNN's bottom-right diagonal.
        // With more queries than keys the first rows see no key, which the core writes as zeros.
        return "cuDNN causal attention needs qLen <= kvLen";
    }
    if (!aligned16(p.q.data, p.q.batchStride, p.q.headStride, p.q.seqStride)
        || !aligned16(p.k.data, p.k.batchStride, p.k.headStride, p.k.seqStride)
        || !aligned16(p.v.data, p.v.batchStride, p.v.headStride, p.v.seqStride)
        || !aligned16(p.out.data, p.out.batchStride, p.out.headStride, p.out.seqStride))
    {
        return "cuDNN attention needs 16-byte aligned views (strides multiples of 8 elements)";
    }
    return nullptr;
}

int32_t lastPrefillBackend() noexcept
{
    return gLastPrefillBackend.load(std::memory_order_relaxed);
}

void noteLastPrefillBackend(int32_t backend) noexcept
{
    gLastPrefillBackend.store(backend, std::memory_order_relaxed);
}

#if !TRTPLUG_HAVE_CUDNN

bool cudnnAttentionCompiled() noexcept
{
    return false;
}

bool cudnnAttentionAvailable() noexcept
{
    return false;
}

cudaError_t launchCudnnAttention(AttentionProblem const& /*p*/, int32_t const* /*queryLengths*/, void* /*workspace*/,
    size_t /*workspaceBytes*/, cudaStream_t /*stream*/, char const** reason) noexcept
{
    if (reason != nullptr)
    {
        *reason = "this build has no cuDNN backend (built without TRTPLUG_CUDNN_INCLUDE_DIRS)";
    }
    return cudaErrorNotSupported;
}

#endif

} // namespace trtplug
