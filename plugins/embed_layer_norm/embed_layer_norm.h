// EmbedLayerNormalization launcher: plain function, no TensorRT types. The IPluginV3 adapter and
// the pybind11 binding both call it.
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! Per token (b, s) of input_ids (batch, seq): E = word[id] + position[pos] (+ segment[seg]),
//! pos = position_ids[b or 0, s] when given else s; output = LayerNorm(E) * gamma + beta.
//! An index outside its table gives a NaN row (never an out-of-bounds read). Null optional
//! inputs are absent; null outputs are not written. mask_index[b] = count of mask == 1 in row b
//! (0 without a mask).
struct EmbedNormArgs
{
    DType dtype{DType::kFLOAT32}; //!< of the tables, gamma, beta, output, embedding_sum
    int32_t const* inputIds{nullptr};
    int32_t const* segmentIds{nullptr};  //!< optional, (batch, seq)
    int32_t const* mask{nullptr};        //!< optional, (batch, seq)
    int32_t const* positionIds{nullptr}; //!< optional, (batch, seq) or (1, seq)
    void const* wordEmbedding{nullptr};
    void const* positionEmbedding{nullptr};
    void const* segmentEmbedding{nullptr}; //!< required when segmentIds is given
    void const* gamma{nullptr};
    void const* beta{nullptr};
    void* output{nullptr};
    int32_t* maskIndex{nullptr}; //!< optional, (batch)
    void* embeddingSum{nullptr}; //!< optional
    int64_t batch{0};
    int64_t seq{0};
    int64_t hidden{0};
    int64_t wordRows{0};
    int64_t positionRows{0};
    int64_t segmentRows{0};
    bool positionIdsBroadcast{false}; //!< position_ids is (1, seq)
    float epsilon{1e-12F};
};

cudaError_t launchEmbedLayerNorm(EmbedNormArgs const& a, cudaStream_t stream) noexcept;

} // namespace trtplug
