// Argument handling shared by the skip_layer_norm and skip_simplified_layer_norm bindings:
// validates the call's device arrays against the op's shape rules and fills SkipNormArgs for the
// op's launcher. Header-only (inline) so each op's binding.cpp stays a few lines.
#pragma once

#include "common/binding.h"
#include "common/skip_norm.h"

#include <string>

namespace trtplug
{

using SkipNormLauncher = cudaError_t (*)(SkipNormArgs const&, cudaStream_t) noexcept;

inline void requireVector(char const* op, char const* name, DeviceArray const& a, DeviceArray const& x)
{
    require(a.dtype == x.dtype, std::string(op) + ": " + name + " must have input's dtype");
    require(a.shape.size() == 1 && a.size == x.lastDim(), std::string(op) + ": " + name
            + " must be 1-D with the length of input's last axis");
}

//! Row count of `skip` when it broadcasts into `x` (x's trailing dims after leading 1s).
inline int64_t skipRowsOf(char const* op, DeviceArray const& skip, DeviceArray const& x)
{
    bool ok = skip.dtype == x.dtype && skip.shape.size() >= 2 && skip.shape.size() <= x.shape.size();
    bool leading = true;
    size_t const offset = x.shape.size() - skip.shape.size();
    for (size_t i = 0; ok && i < skip.shape.size(); ++i)
    {
        leading = leading && skip.shape[i] == 1 && i + 1 < skip.shape.size();
        ok = leading || skip.shape[i] == x.shape[offset + i];
    }
    require(ok, std::string(op) + ": skip must have input's dtype and shape (or its trailing axes after leading 1s)");
    return x.lastDim() > 0 ? skip.size / x.lastDim() : 0;
}

//! outputs[0] like input; [1], [2] float32 with the last axis 1; [3] like input.
inline void checkOutput(char const* op, DeviceArray const& o, size_t i, DeviceArray const& x)
{
    std::vector<int64_t> shape = x.shape;
    DType dtype = x.dtype;
    if (i == 1 || i == 2)
    {
        shape.back() = 1;
        dtype = DType::kFLOAT32;
    }
    require(o.dtype == dtype && o.shape == shape,
        std::string(op) + ": outputs[" + std::to_string(i) + "] has the wrong shape or dtype");
}

//! The tensors of one skip-norm call (absent ones nullptr; gamma and outputs[0] are required).
struct SkipNormTensors
{
    DeviceArray const* x;
    DeviceArray const* skip;
    DeviceArray const* gamma;
    DeviceArray const* beta;
    DeviceArray const* bias;
    DeviceArray const* outputs[4];
};

inline void launchSkipNorm(char const* op, SkipNormLauncher launch, SkipNormTensors const& t, float epsilon,
    cudaStream_t stream)
{
    DeviceArray const& x = *t.x;
    require(isFloatDType(x.dtype),
        std::string(op) + ": input must be float32, float16 or bfloat16, got " + dtypeName(x.dtype));
    require(x.shape.size() >= 2 && x.lastDim() >= 1, std::string(op) + ": input must have rank >= 2 and hidden >= 1");
    require(t.gamma != nullptr && t.outputs[0] != nullptr, std::string(op) + ": gamma and output are required");
    SkipNormArgs a;
    a.dtype = x.dtype;
    a.input = reinterpret_cast<void const*>(x.ptr);
    a.skipRows = skipRowsOf(op, *t.skip, x);
    a.skip = reinterpret_cast<void const*>(t.skip->ptr);
    void const** vectors[] = {&a.gamma, &a.beta, &a.bias};
    DeviceArray const* given[] = {t.gamma, t.beta, t.bias};
    char const* names[] = {"gamma", "beta", "bias"};
    for (int i = 0; i < 3; ++i)
    {
        if (given[i] != nullptr)
        {
            requireVector(op, names[i], *given[i], x);
            *vectors[i] = reinterpret_cast<void const*>(given[i]->ptr);
        }
    }
    uintptr_t ptrs[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < 4; ++i)
    {
        if (t.outputs[i] != nullptr)
        {
            checkOutput(op, *t.outputs[i], i, x);
            ptrs[i] = t.outputs[i]->ptr;
        }
    }
    a.output = reinterpret_cast<void*>(ptrs[0]);
    a.mean = reinterpret_cast<float*>(ptrs[1]);
    a.invStdVar = reinterpret_cast<float*>(ptrs[2]);
    a.sum = reinterpret_cast<void*>(ptrs[3]);
    a.hidden = x.lastDim();
    a.rows = x.size / a.hidden;
    a.epsilon = epsilon;
    checkCuda(launch(a, stream), op);
}

} // namespace trtplug
