// cuDNN fused attention (SDPA through cudnn-frontend's graph API) as the fp16/bf16 prefill backend
// of the attention core. libcudnn.so.9 is dlopen'ed at first use (no link dependency); without it,
// or without the cuDNN headers at build time (a stub), the hand-written kernels run.
#pragma once

#include "common/attention_core.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace trtplug
{

//! TRTPLUG_ATTENTION_PREFILL: unset/auto (the default: cuDNN for prefills it applies to, when
//! libcudnn loads, else the hand-written kernels), kernel (hand-written only), cudnn (cuDNN
//! required: an error where it cannot run).
enum class PrefillBackend : int32_t
{
    kAuto = 0,
    kKernel = 1,
    kCudnn = 2,
};

//! The environment's choice, read on every call (one getenv).
PrefillBackend prefillBackendChoice() noexcept;

//! Why cuDNN cannot compute `p` exactly as the core does (null: it can). A pure function of the
//! problem (no GPU, no library): 16-bit types, equal head sizes 8..128 in steps of 8, no mask,
//! bias, softcap, window, sink; 16-byte aligned views. kvValid is cuDNN's padding mask. Causal:
//! either no kvValid/qStart and qLen <= kvLen (the core's positions are cuDNN's bottom-right
//! diagonal), or qStartZero (query i at key i: the top-left diagonal).
char const* cudnnAttentionInapplicable(AttentionProblem const& p) noexcept;

//! Whether every query row i of `p` sits at key i (qStartZero counts only with a qStart array):
//! cuDNN's top-left diagonal for a causal problem with per-batch lengths.
inline bool cudnnStartsAtZero(AttentionProblem const& p) noexcept
{
    return p.qStartZero && p.qStart != nullptr;
}

//! Whether libcudnn (major 9) loads; tried once, the reason logged once to stderr when not.
bool cudnnAttentionAvailable() noexcept;

//! Whether this build carries the cuDNN backend (false: the stub compiled without headers).
bool cudnnAttentionCompiled() noexcept;

//! Runs `p` through cuDNN SDPA on `stream`. cudaSuccess: done. cudaErrorNotSupported: it did not
//! run (not applicable, unavailable, graph unsupported or needing more than `workspaceBytes`);
//! `reason` (if not null) then says why. Nothing is allocated here once the graph is cached.
//! `queryLengths`: with p.kvValid, p.batch device int32 values of p.qLen (the padding mask takes
//! per-batch query lengths too; the caller writes them: this file compiles without nvcc).
cudaError_t launchCudnnAttention(AttentionProblem const& p, int32_t const* queryLengths, void* workspace,
    size_t workspaceBytes, cudaStream_t stream, char const** reason) noexcept;

//! Query rows from which a 16-bit prefill leaves the split-KV kernels for the tensor-core tiles, or
//! for cuDNN (decode stays split-KV).
constexpr int32_t kMmaMinRows = 32;

//! The prefill backend (TRTPLUG_ATTENTION_PREFILL): cuDNN for the 16-bit prefills it computes as the
//! kernels do (auto, the default: from kMmaMinRows query rows, when libcudnn loads; kernel: never).
//! true: the launch is decided and `err` holds its result; false: the kernels run
//! (attention_cudnn_launch.cu).
bool prefillOnCudnn(AttentionProblem const& p, void* workspace, cudaStream_t stream, cudaError_t& err) noexcept;

//! Scratch the core keeps for cuDNN's plan where TRTPLUG_ATTENTION_PREFILL lets cuDNN take `p`
//! (`anyExtents`: for every problem of p's type and head sizes, whatever the variable says now).
size_t cudnnWorkspaceReserve(AttentionProblem const& p, bool anyExtents) noexcept;

//! The backend the last prefill launch of this process took: 0 none yet, 1 kernels, 2 cuDNN, 3 the
//! float32 tensor-core prefill (attention_flash32.cuh).
int32_t lastPrefillBackend() noexcept;
void noteLastPrefillBackend(int32_t backend) noexcept;

} // namespace trtplug
