// com.microsoft MultiHeadAttention launcher: plain function, no TensorRT types. It turns the
// op's layouts (query [B, S, N*H] or packed QKV; key/value BSNH, packed KV or a BNSH cache),
// bias, key_padding_mask and past/present into views and masks for the shared attention core
// (common/attention_core.h).
#pragma once

#include "common/attention_core.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

//! Input shapes in spec order; rank 0 marks an absent optional input.
struct MhaShapes
{
    TensorShape query;
    TensorShape key;
    TensorShape value;
    TensorShape bias;
    TensorShape keyPadding;
    TensorShape attentionBias;
    TensorShape pastKey;
    TensorShape pastValue;
};

enum class MhaLayout : int32_t
{
    kSeparate = 0, //!< key, value [B, L, N*H] (BSNH)
    kPackedQkv = 1, //!< query [B, S, N, 3, H], no key/value
    kPackedKv = 2,  //!< key [B, L, N, 2, H], no value
    kBnshCache = 3, //!< key, value [B, N, L, H]: no bias on them, no past
};

enum class MhaKeyPadding : int32_t
{
    kNone = 0,
    kLengths = 1, //!< [B]: keys at or after the length are padding
    kMask2d = 2,  //!< [B, T], 0 = padding
    kMask3d = 3,  //!< [B, S, T]
};

struct MhaDims
{
    MhaLayout layout{MhaLayout::kSeparate};
    MhaKeyPadding padding{MhaKeyPadding::kNone};
    int32_t batch{0};
    int32_t heads{0};
    int32_t qLen{0};
    int32_t newLen{0};
    int32_t pastLen{0};
    int32_t headDim{0};
    int32_t vHeadDim{0};
    int32_t total() const noexcept { return pastLen + newLen; }
};

//! Fills `d` from the shapes and num_heads; the problem ("" when they fit).
std::string mhaDims(MhaShapes const& s, int32_t numHeads, MhaDims& d);

struct MhaArgs
{
    DType dtype{DType::kFLOAT32};
    MhaShapes shapes;
    MhaDims dims;
    void const* query{nullptr};
    void const* key{nullptr};
    void const* value{nullptr};
    void const* bias{nullptr};           //!< null: absent
    int32_t const* keyPadding{nullptr};  //!< null: absent
    void const* attentionBias{nullptr};  //!< null: absent
    void const* pastKey{nullptr};        //!< null: absent (with pastValue)
    void const* pastValue{nullptr};
    void* output{nullptr};
    void* presentKey{nullptr};   //!< null: not wanted
    void* presentValue{nullptr}; //!< null: not wanted
    void* qk{nullptr};           //!< null: not wanted
    float scale{0.F};            //!< 0: 1 / sqrt(head)
    float maskFilterValue{-10000.F};
    bool unidirectional{false};
};

//! Scratch bytes launchMultiHeadAttention needs for `a` (pointers not read); maxShapes: enough for every call
//! whose extents are at most a\'s (a TensorRT plugin sizes its workspace from the profile maximum).
size_t mhaWorkspaceSize(MhaArgs const& a, bool maxShapes = false) noexcept;

cudaError_t launchMultiHeadAttention(MhaArgs const& a, void* workspace, cudaStream_t stream) noexcept;

} // namespace trtplug
