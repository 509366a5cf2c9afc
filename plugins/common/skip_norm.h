// Arguments of the skip-norm launchers shared by SkipLayerNormalization and its RMS form
// SkipSimplifiedLayerNormalization (one kernel template, plugins/common/skip_norm.cuh). Plain
// data, no TensorRT types: the IPluginV3 adapters and the pybind11 bindings fill it alike.
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace trtplug
{

//! S = input + skip (+ bias), normalized over rows of `hidden` elements. `skip` has `skipRows`
//! rows (== rows, or fewer when it broadcasts over leading axes: row r uses r % skipRows).
//! Null output pointers are outputs the node does not use; they are not written.
struct SkipNormArgs
{
    DType dtype{DType::kFLOAT32}; //!< of input, skip, gamma, beta, bias, output, sum
    void const* input{nullptr};
    void const* skip{nullptr};
    void const* gamma{nullptr};
    void const* beta{nullptr}; //!< optional (LayerNorm form only)
    void const* bias{nullptr}; //!< optional
    void* output{nullptr};
    float* mean{nullptr};      //!< optional, one per row (0 in RMS form)
    float* invStdVar{nullptr}; //!< optional, one per row
    void* sum{nullptr};        //!< optional input_skip_bias_sum
    int64_t rows{0};
    int64_t hidden{0};
    int64_t skipRows{0};
    float epsilon{1e-12F};
};

//! Checks that do not need the GPU; the reason, or null when `a` is launchable.
inline char const* skipNormArgsProblem(SkipNormArgs const& a) noexcept
{
    if (!isFloatDType(a.dtype))
    {
        return "dtype must be float32, float16 or bfloat16";
    }
    if (a.rows < 0 || a.hidden < 1 || a.hidden > (int64_t{1} << 31))
    {
        return "hidden size must be >= 1 and rows >= 0";
    }
    if (a.rows > 0 && (a.skipRows < 1 || a.rows % a.skipRows != 0))
    {
        return "skip rows must divide the input rows";
    }
    if (a.rows > 0 && (a.input == nullptr || a.skip == nullptr || a.gamma == nullptr || a.output == nullptr))
    {
        return "input, skip, gamma and output are required";
    }
    return nullptr;
}

} // namespace trtplug
