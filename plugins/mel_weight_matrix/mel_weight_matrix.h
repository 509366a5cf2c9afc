// MelWeightMatrix launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! out[j, i] (rows x mels, row-major) = the ai.onnx MelWeightMatrix weight of spectrogram bin j in
//! mel filter i, computed as onnx.reference does (op_mel_weight_matrix.py): the filter edges
//! floor((dft_length + 1) * hz(k) / sample_rate) in float64 with NumPy's floor division, the mel
//! bounds in float32 then float64, each weight a float64 ratio rounded once to `outType`.
//! dftLength and sampleRate are device scalars of `intType` (int32 or int64); lowerEdge and
//! upperEdge device float32 scalars. Inputs the reference refuses or cannot index with (dft_length
//! < 2, sample_rate < 1, a non-finite edge, lower < 0, upper < lower, a filter past the last row)
//! make every element NaN: a kernel cannot raise. `rows` should be dft_length / 2 + 1.
cudaError_t launchMelWeightMatrix(DType outType, DType intType, void const* dftLength, void const* sampleRate,
    float const* lowerEdge, float const* upperEdge, void* out, int64_t rows, int64_t mels,
    cudaStream_t stream) noexcept;

} // namespace trtplug
