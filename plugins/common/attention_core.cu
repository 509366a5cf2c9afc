// The attention core (attention_core.h): checks, the split-KV plan and the launch of the tiled
// kernel (attention_kernels.cuh), plus the combine pass when the keys are split across blocks
// (attention_combine.cuh; the tensor-core decode merges its own splits). 16-bit prefills go to
// cuDNN first where it applies (attention_cudnn_launch.cu).
#include "common/attention_core.h"
#include "common/attention_combine.cuh"
#include "common/attention_cudnn.h"
#include "common/attention_decode_launch.cuh"
#include "common/attention_flash_launch.cuh"
#include "common/attention_kernels.cuh"
#include "common/attention_mma.cuh"
#include "common/dtype_dispatch.cuh"

#include <algorithm>
#include <atomic>
#include <type_traits>

namespace trtplug
{
namespace
{

using attention::decodeApplies;
using attention::decodeMmaApplies;
using attention::decodeMmaSplits;
using attention::flashPrefillApplies;
using attention::fp32OnTensorCores;
using attention::launchFlash;
using attention::launchFlash32;
using attention::hasMmaSync;
using attention::kMaxDim;
using attention::kMaxSplits;
using attention::kThreads;
using attention::kWarps;
using attention::rowsPerKvHead;

//! Blocks that fill an H100/H200 (132 SMs) four times over, for the loads in flight decode needs;
//! fewer blocks than half this split the keys.
constexpr int64_t kTargetBlocks = 528;
constexpr int32_t kMinKeysPerSplit = 256;

int64_t rowTiles(AttentionProblem const& p) noexcept
{
    int64_t const rows = rowsPerKvHead(p);
    return (rows + kWarps - 1) / kWarps;
}

//! How many blocks share one row tile's keys: a pure function of the problem, so that the
//! workspace size asked at build time matches the launch.
int32_t splitCount(AttentionProblem const& p) noexcept
{
    int64_t const blocks = rowTiles(p) * p.kvHeads * p.batch;
    if (blocks == 0 || blocks >= kTargetBlocks / 2)
    {
        return 1;
    }
    int64_t byKeys = (p.kvLen + kMinKeysPerSplit - 1) / kMinKeysPerSplit;
    int64_t byGrid = (kTargetBlocks + blocks - 1) / blocks;
    int64_t const s = std::min<int64_t>(std::min(byKeys, byGrid), kMaxSplits);
    return static_cast<int32_t>(std::max<int64_t>(s, 1));
}

//! Blocks a decode-shaped problem (at most kDecodeMaxRows query rows per KV head) may spread its
//! keys over: four waves of the tensor-core decode's 3 blocks per SM on 132 SMs. Room only: the
//! launch picks the count within it (decodeMmaSplits).
constexpr int64_t kDecodeTargetBlocks = 1584;

bool decodeShaped(AttentionProblem const& p) noexcept
{
    return p.kvHeads > 0 && rowsPerKvHead(p) <= attention::kDecodeMaxRows;
}

//! The most splits the workspace holds: splitCount's, or for a decode-shaped problem as many as
//! kDecodeTargetBlocks and kMinKeysPerSplit allow. A pure function of the problem, as splitCount.
int32_t splitRoom(AttentionProblem const& p) noexcept
{
    int32_t const splits = splitCount(p);
    int64_t const blocks = static_cast<int64_t>(p.kvHeads) * p.batch;
    if (!decodeShaped(p) || blocks == 0 || blocks >= kTargetBlocks / 2)
    {
        return splits;
    }
    int64_t const byKeys = (p.kvLen + kMinKeysPerSplit - 1) / kMinKeysPerSplit;
    int64_t const byGrid = (kDecodeTargetBlocks + blocks - 1) / blocks;
    return std::max<int32_t>(splits, static_cast<int32_t>(std::min({byKeys, byGrid, int64_t{kMaxSplits}})));
}

bool isAttentionType(DType t) noexcept
{
    return t == DType::kFLOAT32 || t == DType::kFLOAT16 || t == DType::kBFLOAT16;
}

int64_t partialRows(AttentionProblem const& p) noexcept
{
    return static_cast<int64_t>(p.batch) * p.qHeads * p.qLen;
}

//! The tensor-core decode's split counters ([batch, kvHeads], after the partials): a
//! decode-shaped problem's room for them.
size_t counterBytes(AttentionProblem const& p) noexcept
{
    return decodeShaped(p) ? static_cast<size_t>(p.batch) * p.kvHeads * sizeof(unsigned int) : 0;
}

//! The split-KV partials in the workspace: [rows, splits, 2] statistics, then [rows, splits, dim].
attention::Partials partialsIn(AttentionProblem const& p, void* workspace, int32_t splits) noexcept
{
    attention::Partials part{};
    part.splits = splits;
    if (splits > 1)
    {
        int64_t const slots = partialRows(p) * splits;
        part.stats = static_cast<float*>(workspace);
        part.acc = part.stats + 2 * slots;
    }
    return part;
}

//! Lets the tensor-core decode merge its splits (combineGroupWhenLast) through counters after the
//! partials, which must read zero at launch. TensorRT's workspace holds anything (other layers
//! share it), and no kernel of the core runs before the decode to clear them in passing: a memset
//! of batch x kvHeads words (under 1 KB: splits > 1 only below kTargetBlocks / 2 groups) each launch.
cudaError_t fuseDecodeCombine(AttentionProblem const& p, attention::Partials& part, cudaStream_t stream) noexcept
{
    part.counters = reinterpret_cast<unsigned int*>(part.acc + partialRows(p) * part.splits * p.vHeadDim);
    return cudaMemsetAsync(part.counters, 0, counterBytes(p), stream);
}

template <typename T, int kPer>
cudaError_t launchTyped(AttentionProblem const& p, void* workspace, cudaStream_t stream) noexcept
{
    bool const decode = decodeApplies<T>(p);
    bool const decodeOnMma = decode && decodeMmaApplies<T>(p); // decided once: getenv + device query
    int32_t splits = splitCount(p);
    if (decodeOnMma)
    {
        splits = decodeMmaSplits<T>(p, splitRoom(p), splits);
    }
    if (p.past.rows != nullptr && !decodeOnMma)
    {
        return cudaErrorInvalidValue; // attentionCopiesPast said yes: only an environment change gets here
    }
    attention::Partials part = partialsIn(p, workspace, splits);
    if (decodeOnMma && part.splits > 1 && attention::combineInDecode())
    {
        if (cudaError_t const err = fuseDecodeCombine(p, part, stream); err != cudaSuccess)
        {
            return err;
        }
    }
    if (decode)
    {
        attention::launchDecode<T>(p, part, decodeOnMma, stream); // rows <= kWarps: one row tile, so the split count is the same
    }
    else
    {
        dim3 const grid(static_cast<unsigned>(rowTiles(p) * part.splits), static_cast<unsigned>(p.kvHeads),
            static_cast<unsigned>(p.batch));
        attention::attentionTileKernel<T, kPer><<<grid, kThreads, 0, stream>>>(p, part);
    }
    if (part.splits > 1 && part.counters == nullptr)
    {
        auto const blocks = static_cast<unsigned>((partialRows(p) + kWarps - 1) / kWarps);
        attention::attentionCombineKernel<T, kPer><<<blocks, kThreads, 0, stream>>>(p, part);
    }
    return cudaGetLastError();
}

//! The tensor-core prefill path applies: 16-bit types on sm_80+, equal head sizes 16..128 in
//! steps of 16, enough query rows, contiguous last axes (all views have them).
template <typename T>
bool mmaApplies(AttentionProblem const& p) noexcept
{
    if (p.qLen < kMmaMinRows || p.headDim != p.vHeadDim || p.headDim % 16 != 0
        || p.headDim > attention::kMmaMaxDim)
    {
        return false;
    }
    return hasMmaSync();
}

template <typename T>
cudaError_t launchMma(AttentionProblem const& p, cudaStream_t stream) noexcept
{
    dim3 const grid(static_cast<unsigned>((p.qLen + attention::kMmaRows - 1) / attention::kMmaRows),
        static_cast<unsigned>(p.qHeads), static_cast<unsigned>(p.batch));
    return launchLargeShared(
        attention::attentionMmaKernel<T>, grid, attention::kMmaThreads, attention::mmaSharedBytes(p.headDim), stream, p);
}

template <typename T>
cudaError_t launchForDim(AttentionProblem const& p, void* workspace, cudaStream_t stream) noexcept
{
    if constexpr (!std::is_same<T, float>::value)
    {
        if (mmaApplies<T>(p))
        {
            return flashPrefillApplies(p) ? launchFlash<T>(p, stream) : launchMma<T>(p, stream);
        }
    }
    else if (mmaApplies<T>(p) && flashPrefillApplies(p) && fp32OnTensorCores())
    {
        return launchFlash32(p, stream);
    }
    int32_t const dim = std::max(p.headDim, p.vHeadDim);
    if (dim <= 64)
    {
        return launchTyped<T, 2>(p, workspace, stream);
    }
    if (dim <= 128)
    {
        return launchTyped<T, 4>(p, workspace, stream);
    }
    if (dim <= 192)
    {
        return launchTyped<T, 6>(p, workspace, stream);
    }
    return launchTyped<T, 8>(p, workspace, stream);
}

bool viewMissing(void const* data, int64_t elements) noexcept
{
    return elements > 0 && data == nullptr;
}

//! attentionProblemError without the data pointers: what the workspace size needs (a plugin
//! asks for it at build time, before any pointer exists).
char const* shapeErrorOf(AttentionProblem const& p) noexcept
{
    if (!isAttentionType(p.dtype))
    {
        return "attention takes float32, float16 or bfloat16";
    }
    if (p.batch < 0 || p.qLen < 0 || p.kvLen < 0 || p.qHeads < 1 || p.kvHeads < 1)
    {
        return "attention needs batch, qLen, kvLen >= 0 and at least one query and one key/value head";
    }
    if (p.qHeads % p.kvHeads != 0)
    {
        return "the number of query heads must be a multiple of the number of key/value heads";
    }
    if (p.headDim < 1 || p.headDim > kMaxDim || p.vHeadDim < 1 || p.vHeadDim > kMaxDim)
    {
        return "attention head sizes must be 1..256";
    }
    if (p.bias.data && p.bias.dtype != DType::kFLOAT32 && p.bias.dtype != p.dtype)
    {
        return "the attention bias must be float32 or the problem's dtype";
    }
    if (p.qHeads > 65535 || p.batch > 65535)
    {
        return "attention takes at most 65535 batches and heads";
    }
    return nullptr;
}

} // namespace

char const* attentionProblemError(AttentionProblem const& p) noexcept
{
    if (char const* problem = shapeErrorOf(p))
    {
        return problem;
    }
    int64_t const rows = partialRows(p);
    int64_t const keys = static_cast<int64_t>(p.batch) * p.kvHeads * p.kvLen;
    if (viewMissing(p.q.data, rows) || viewMissing(p.out.data, rows) || viewMissing(p.k.data, keys)
        || viewMissing(p.v.data, keys))
    {
        return "attention views are missing their data";
    }
    if (p.past.rows != nullptr && rows > 0 && !attentionCopiesPast(p))
    {
        return "only the tensor-core decode copies the past cache (attentionCopiesPast)";
    }
    return nullptr;
}

namespace
{
std::atomic<bool> gLastCopiedPast{false};
} // namespace

bool lastAttentionCopiedPast() noexcept
{
    return gLastCopiedPast.load(std::memory_order_relaxed);
}

bool attentionCopiesPast(AttentionProblem const& p) noexcept
{
    bool const halfWidth = p.dtype == DType::kFLOAT16 || p.dtype == DType::kBFLOAT16;
    if (!halfWidth || shapeErrorOf(p) != nullptr || !p.causal || p.windowLeft >= 0
        || !attention::chunkedView(p.past.k) || !attention::chunkedView(p.past.v) || p.past.k.data == nullptr
        || p.past.v.data == nullptr || !attention::pastCopyInDecode())
    {
        return false;
    }
    // Both checks depend only on the element size (fp16 and bf16 alike) and the views.
    return decodeApplies<__half>(p) && decodeMmaApplies<__half>(p);
}


size_t attentionWorkspaceSize(AttentionProblem const& p) noexcept
{
    if (shapeErrorOf(p) != nullptr)
    {
        return 0;
    }
    int32_t const splits = splitRoom(p);
    size_t const cudnn = cudnnWorkspaceReserve(p, false);
    if (splits <= 1)
    {
        return cudnn;
    }
    auto const slots = static_cast<size_t>(partialRows(p)) * static_cast<size_t>(splits);
    return std::max(cudnn, slots * (2 + static_cast<size_t>(p.vHeadDim)) * sizeof(float) + counterBytes(p));
}

size_t attentionWorkspaceBound(AttentionProblem const& p) noexcept
{
    if (shapeErrorOf(p) != nullptr)
    {
        return 0;
    }
    // Keys are split only while the grid has blocks < kTargetBlocks / 2 (of kWarps rows each), into
    // at most ceil(kTargetBlocks / blocks) splits: rows * splits <= kWarps * (kTargetBlocks + blocks).
    // A decode-shaped problem's room (splitRoom): rows <= kDecodeMaxRows * blocks, splits <=
    // kDecodeTargetBlocks / blocks + 1, and blocks < kTargetBlocks / 2, which bounds the counters too.
    int64_t const roomSlots = attention::kDecodeMaxRows * (kDecodeTargetBlocks + kTargetBlocks / 2);
    int64_t const slots
        = std::min<int64_t>(partialRows(p) * kMaxSplits, std::max<int64_t>(kWarps * kTargetBlocks * 3 / 2, roomSlots));
    int64_t const groups = std::min<int64_t>(static_cast<int64_t>(p.batch) * p.kvHeads, kTargetBlocks / 2);
    size_t const bound = static_cast<size_t>(slots) * (2 + static_cast<size_t>(p.vHeadDim)) * sizeof(float)
        + static_cast<size_t>(groups) * sizeof(unsigned int);
    return std::max({bound, attentionWorkspaceSize(p), cudnnWorkspaceReserve(p, true)});
}

cudaError_t launchAttention(AttentionProblem const& p, void* workspace, cudaStream_t stream) noexcept
{
    if (attentionProblemError(p) != nullptr)
    {
        return cudaErrorInvalidValue;
    }
    if (partialRows(p) == 0)
    {
        return cudaSuccess;
    }
    if (attentionWorkspaceSize(p) > 0 && workspace == nullptr)
    {
        return cudaErrorInvalidValue;
    }
    gLastCopiedPast.store(p.past.rows != nullptr, std::memory_order_relaxed);
    cudaError_t err = cudaSuccess;
    if (p.past.rows == nullptr && prefillOnCudnn(p, workspace, stream, err))
    {
        return err;
    }
    noteLastPrefillBackend(1);
    return forFloatOrBf16Type(p.dtype, [&](auto t) { return launchForDim<decltype(t)>(p, workspace, stream); });
}

char const* attentionShapeError(AttentionProblem const& p) noexcept
{
    return shapeErrorOf(p);
}

} // namespace trtplug
