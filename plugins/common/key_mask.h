// Key mask forms of ONNX Runtime's com.microsoft attention ops (Attention's mask_index,
// MultiHeadAttention's key_padding_mask), shared by their launchers (common/attention_mask_bias.cuh).
#pragma once

#include <cstdint>

namespace trtplug
{

enum class KeyMask : int32_t
{
    kNone = 0,
    kLengths = 1,  //!< [B]: keys at or after the length are padding
    kEndStart = 2, //!< [2B]: exclusive ends, then inclusive starts
    kRaw2d = 3,    //!< [B, T], 0 = masked
    kRaw3d = 4,    //!< [B, S, T]
    kMegatron = 5, //!< [B, 1, M, M]: rows P..P+S-1, keys 0..T-1
};

} // namespace trtplug
