// The decode launchers of the attention core (attention_core.h): the choice between the
// tensor-core decode (attention_decode_mma.cuh, the default where it applies) and the key-parallel
// one (attention_decode.cuh), and the tensor-core decode's split count fitted to whole waves.
// Included only from attention_core.cu.
#pragma once

#include "common/attention_core.h"
#include "common/attention_decode.cuh"
#include "common/attention_decode_mma.cuh"
#include "common/launch.cuh"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace trtplug
{
namespace attention
{

//! mma.sync with bf16 and cp.async: sm_80 and later (the device asked once).
inline bool hasMmaSync() noexcept
{
    return cachedDeviceAttribute<cudaDevAttrComputeCapabilityMajor>(0) >= 8;
}

//! The register-resident prefill (attention_flash.cuh) applies to a problem the tensor-core path
//! takes: head size 64 or 128, no mask or bias tensor, Q/K/V rows in aligned 16-byte chunks. The
//! one switch between it and the WMMA kernel.
inline bool chunkedView(HeadView const& v) noexcept
{
    return v.batchStride % 8 == 0 && v.headStride % 8 == 0 && v.seqStride % 8 == 0
        && reinterpret_cast<uintptr_t>(v.data) % 16 == 0;
}

inline bool flashApplies(AttentionProblem const& p) noexcept
{
    return (p.headDim == 64 || p.headDim == 128) && p.vHeadDim == p.headDim && p.mask.data == nullptr
        && p.bias.data == nullptr && chunkedView(p.q) && chunkedView(p.k) && chunkedView(p.v);
}

//! The register-resident prefills (attention_flash.cuh, attention_flash32.cuh) take mask and bias
//! tensors too (an instance that reads them, logit's rules); the decode does not.
inline bool flashPrefillApplies(AttentionProblem const& p) noexcept
{
    return (p.headDim == 64 || p.headDim == 128) && p.vHeadDim == p.headDim && chunkedView(p.q) && chunkedView(p.k)
        && chunkedView(p.v);
}

inline bool hasScoreTensors(AttentionProblem const& p) noexcept
{
    return p.mask.data != nullptr || p.bias.data != nullptr;
}

//! The key-parallel decode kernel applies (attention_decode.cuh): at most kDecodeMaxRows query
//! rows per KV head, K and V rows in 16-byte slices (head sizes a multiple of the slice, at most
//! 32 slices; aligned data and strides). The one switch between it and the tile kernel.
template <typename T>
bool decodeApplies(AttentionProblem const& p) noexcept
{
    constexpr int kVec = kVecOf<T>;
    auto const sliced = [](HeadView const& v, int32_t dim) {
        return dim % kVec == 0 && dim / kVec <= 32 && v.batchStride % kVec == 0 && v.headStride % kVec == 0
            && v.seqStride % kVec == 0 && reinterpret_cast<uintptr_t>(v.data) % 16 == 0;
    };
    int64_t const rows = rowsPerKvHead(p);
    return rows >= 1 && rows <= kDecodeMaxRows && sliced(p.k, p.headDim) && sliced(p.v, p.vHeadDim);
}

template <typename T, int kRows, int kLanes>
void launchDecodeKernel(AttentionProblem const& p, Partials const& part, cudaStream_t stream) noexcept
{
    dim3 const grid(static_cast<unsigned>(part.splits), static_cast<unsigned>(p.kvHeads), static_cast<unsigned>(p.batch));
    attentionDecodeKernel<T, kRows, kLanes><<<grid, kDecodeThreads, 0, stream>>>(p, part);
}

//! Lanes per key: the 16-byte slices of the longer head, rounded up to 8, 16 or 32.
template <typename T, int kRows>
void launchDecodeRows(AttentionProblem const& p, Partials const& part, cudaStream_t stream) noexcept
{
    int32_t const slices = std::max(p.headDim, p.vHeadDim) / kVecOf<T>;
    if (slices <= 8)
    {
        launchDecodeKernel<T, kRows, 8>(p, part, stream);
    }
    else if (slices <= 16)
    {
        launchDecodeKernel<T, kRows, 16>(p, part, stream);
    }
    else
    {
        launchDecodeKernel<T, kRows, 32>(p, part, stream);
    }
}

//! The tensor-core decode (attention_decode_mma.cuh) is the default where it applies (16-bit
//! types, head 64/128, no mask or bias tensor): on the H200 its kernel ran 3.1-3.3x faster than the
//! key-parallel kernel (GQA 32/8, KV 16k-32k). TRTPLUG_ATTENTION_DECODE=key-parallel (read per
//! launch) selects the key-parallel kernel, for comparison and tests.
inline bool decodeOnTensorCores() noexcept
{
    char const* choice = std::getenv("TRTPLUG_ATTENTION_DECODE");
    return choice == nullptr || std::strcmp(choice, "key-parallel") != 0;
}

template <typename T, int kD>
void launchDecodeMma(AttentionProblem const& p, Partials const& part, cudaStream_t stream) noexcept
{
    dim3 const grid(static_cast<unsigned>(part.splits), static_cast<unsigned>(p.kvHeads), static_cast<unsigned>(p.batch));
    // an error stays the last error: launchTyped's cudaGetLastError() reports it
    launchLargeShared(attentionDecodeMmaKernel<T, kD>, grid, kFlashThreads,
        decodeMmaSharedBytes<kD>(), stream, p, part);
}

//! Whether the tensor-core decode copies the past rows it reads into present (PastCopy), read per
//! call: unset or TRTPLUG_ATTENTION_PAST_COPY=decode does; =separate leaves the copy to the op's
//! own pass. The default since the H200 timed it (bf16, batch 4, GQA 32/8, head 128): the op
//! 88.6 / 162.8 / 305.3 us at KV 8k / 16k / 32k against 125.9 / 228.9 / 432.5 us with the
//! separate copy (1.42x), all GPU tests passing. kPastCopyByDefault is the one switch.
constexpr bool kPastCopyByDefault = true;

inline bool pastCopyInDecode() noexcept
{
    char const* choice = std::getenv("TRTPLUG_ATTENTION_PAST_COPY");
    return choice == nullptr ? kPastCopyByDefault : std::strcmp(choice, "separate") != 0;
}

//! The tensor-core decode takes p (launchDecode's choice).
template <typename T>
bool decodeMmaApplies(AttentionProblem const& p) noexcept
{
    return !std::is_same<T, float>::value && decodeOnTensorCores() && flashApplies(p) && hasMmaSync();
}

//! Blocks of the tensor-core decode resident at once on this device (0: unknown), its occupancy
//! asked once per device: 74 KB of shared memory (head 128) allow 3 blocks per SM on the H200.
template <typename T, int kD>
int64_t residentDecodeMmaBlocks() noexcept
{
    int const perSm = residentBlocksPerSm<attentionDecodeMmaKernel<T, kD>>(kFlashThreads, decodeMmaSharedBytes<kD>());
    return static_cast<int64_t>(perSm) * multiprocessorCount();
}

//! Splits (at most `splits`, so the workspace sized by splitCount holds them) whose blocks fill
//! whole waves of `resident` blocks: 32 blocks x 17 splits on 396 slots would run a second wave
//! 37% full, where 12 splits run one wave 97% full.
inline int32_t splitsFillingWaves(int32_t splits, int64_t blocks, int64_t resident) noexcept
{
    int64_t const waves = resident > 0 ? blocks * splits / resident : 0;
    if (splits <= 1 || waves == 0)
    {
        return splits; // under one wave: every block runs at once
    }
    return static_cast<int32_t>(std::clamp<int64_t>(waves * resident / blocks, 1, splits));
}

//! TRTPLUG_ATTENTION_DECODE_SPLITS=n (read per launch) forces the tensor-core decode's split
//! count, clamped to the workspace's room: for measuring the split policy; 0 when unset.
inline int32_t forcedDecodeSplits() noexcept
{
    char const* value = std::getenv("TRTPLUG_ATTENTION_DECODE_SPLITS");
    return value == nullptr ? 0 : std::max(0, std::atoi(value));
}

//! The tensor-core decode's split count: `splits` (splitCount's) fitted to whole waves, or the
//! forced count within `room` (splitRoom: what the workspace holds).
template <typename T>
int32_t decodeMmaSplits(AttentionProblem const& p, int32_t room, int32_t splits) noexcept
{
    int32_t const forced = forcedDecodeSplits();
    if (forced > 0)
    {
        return std::min(forced, room);
    }
    int64_t const resident
        = p.headDim == 64 ? residentDecodeMmaBlocks<T, 64>() : residentDecodeMmaBlocks<T, 128>();
    return splitsFillingWaves(splits, static_cast<int64_t>(p.kvHeads) * p.batch, resident);
}

//! The tensor-core decode merges its splits itself (combineGroupWhenLast), the default: the
//! separate combine launch cost 3-10 us after a ~50 us decode. TRTPLUG_ATTENTION_DECODE_COMBINE=kernel
//! (read per launch) runs attentionCombineKernel instead, for A/B measurements.
inline bool combineInDecode() noexcept
{
    char const* choice = std::getenv("TRTPLUG_ATTENTION_DECODE_COMBINE");
    return choice == nullptr || std::strcmp(choice, "kernel") != 0;
}

//! `onTensorCores`: decodeMmaApplies<T>(p), decided once by the caller, which also sized the
//! splits by it.
template <typename T>
void launchDecode(AttentionProblem const& p, Partials const& part, bool onTensorCores, cudaStream_t stream) noexcept
{
    if (onTensorCores)
    {
        return p.headDim == 64 ? launchDecodeMma<T, 64>(p, part, stream) : launchDecodeMma<T, 128>(p, part, stream);
    }
    int64_t const rows = rowsPerKvHead(p);
    if (rows == 1)
    {
        launchDecodeRows<T, 1>(p, part, stream);
    }
    else if (rows <= 4)
    {
        launchDecodeRows<T, 4>(p, part, stream);
    }
    else
    {
        launchDecodeRows<T, 8>(p, part, stream);
    }
}

} // namespace attention
} // namespace trtplug
