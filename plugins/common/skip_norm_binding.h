// pybind11 argument handling shared by the skip_layer_norm and skip_simplified_layer_norm
// bindings: validates CUDA arrays against the op's shape rules and fills SkipNormArgs for the
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
inline DeviceArray checkedOutput(char const* op, pybind11::handle obj, size_t i, DeviceArray const& x)
{
    DeviceArray o = toDeviceArray(obj, "outputs", true);
    std::vector<int64_t> shape = x.shape;
    DType dtype = x.dtype;
    if (i == 1 || i == 2)
    {
        shape.back() = 1;
        dtype = DType::kFLOAT32;
    }
    require(o.dtype == dtype && o.shape == shape,
        std::string(op) + ": outputs[" + std::to_string(i) + "] has the wrong shape or dtype");
    return o;
}

inline void skipNormArrays(char const* op, SkipNormLauncher launch, pybind11::handle input, pybind11::handle skip,
    pybind11::handle gamma, pybind11::sequence outputs, pybind11::handle beta, pybind11::handle bias, float epsilon,
    pybind11::handle stream)
{
    DeviceArray const x = toDeviceArray(input, "input", false);
    require(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16,
        std::string(op) + ": input must be float32 or float16, got " + dtypeName(x.dtype));
    require(x.shape.size() >= 2 && x.lastDim() >= 1, std::string(op) + ": input must have rank >= 2 and hidden >= 1");
    SkipNormArgs a;
    a.dtype = x.dtype;
    a.input = reinterpret_cast<void const*>(x.ptr);
    DeviceArray const s = toDeviceArray(skip, "skip", false);
    a.skipRows = skipRowsOf(op, s, x);
    a.skip = reinterpret_cast<void const*>(s.ptr);
    void const** optional[] = {&a.gamma, &a.beta, &a.bias};
    char const* names[] = {"gamma", "beta", "bias"};
    pybind11::handle handles[] = {gamma, beta, bias};
    for (int i = 0; i < 3; ++i)
    {
        if (!handles[i].is_none())
        {
            DeviceArray const v = toDeviceArray(handles[i], names[i], false);
            requireVector(op, names[i], v, x);
            *optional[i] = reinterpret_cast<void const*>(v.ptr);
        }
    }
    require(a.gamma != nullptr, std::string(op) + ": gamma is required");
    size_t const n = pybind11::len(outputs);
    require(n >= 1 && n <= 4, std::string(op) + ": give 1 to 4 outputs (output, mean, inv_std_var, sum)");
    uintptr_t ptrs[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i)
    {
        ptrs[i] = checkedOutput(op, outputs[i], i, x).ptr;
    }
    a.output = reinterpret_cast<void*>(ptrs[0]);
    a.mean = reinterpret_cast<float*>(ptrs[1]);
    a.invStdVar = reinterpret_cast<float*>(ptrs[2]);
    a.sum = reinterpret_cast<void*>(ptrs[3]);
    a.hidden = x.lastDim();
    a.rows = x.size / a.hidden;
    a.epsilon = epsilon;
    checkCuda(launch(a, toStream(stream)), op);
}

} // namespace trtplug
