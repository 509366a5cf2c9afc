// SkipSimplifiedLayerNormalization (RMS form) launcher: plain function, no TensorRT types; the
// same kernel template as SkipLayerNormalization with the RMS flag set.
#pragma once

#include "common/skip_norm.h"

namespace trtplug
{

//! output = S / sqrt(mean(S^2) + eps) * gamma, S = input + skip (+ bias), per row; float32
//! statistics; `a.beta` is ignored and `a.mean`, when given, receives 0. Null outputs are skipped.
cudaError_t launchSkipSimplifiedLayerNorm(SkipNormArgs const& a, cudaStream_t stream) noexcept;

} // namespace trtplug
