// SkipLayerNormalization launcher: plain function, no TensorRT types. The IPluginV3 adapter and
// the pybind11 binding both call it, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/skip_norm.h"

namespace trtplug
{

//! output = (S - mean(S)) / sqrt(var(S) + eps) * gamma (+ beta), S = input + skip (+ bias), per
//! row; float32 statistics. Optional outputs in `a` that are null are skipped.
cudaError_t launchSkipLayerNorm(SkipNormArgs const& a, cudaStream_t stream) noexcept;

} // namespace trtplug
