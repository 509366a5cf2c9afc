// Limits shared by the batched small-matrix launchers (Det, Inverse); TensorRT- and CUDA-free.
#pragma once

#include <cstdint>

namespace trtplug
{

//! Largest matrix dimension the batched small-matrix launchers take (one block per matrix in
//! shared memory above 8, registers at or below).
constexpr int32_t kMaxMatrixDim = 64;

} // namespace trtplug
