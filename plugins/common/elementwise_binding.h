// Argument checks shared by the bindings of the elementwise ops (plugins/<op>/binding.cpp):
// X and Y float32/float16 of one shape and dtype, bias 1-D of X's last-dim length, skip X's
// shape, all C-contiguous device arrays. Header-only: included by op bindings.
#pragma once

#include "common/binding.h"
#include "common/elementwise.h"

#include <string>

namespace trtplug
{

struct ElementwiseCall
{
    DType dtype{DType::kFLOAT32};
    ElementwiseArgs args;
};

//! Validates the arrays (nullptr for an absent bias/skip) and fills launcher arguments;
//! raises ValueError naming `op` and the argument otherwise.
inline ElementwiseCall elementwiseCall(char const* op, DeviceArray const& xa, DeviceArray const& ya,
    DeviceArray const* bias = nullptr, DeviceArray const* skip = nullptr)
{
    std::string const name(op);
    require(isFloatDType(xa.dtype),
        name + ": x must be float32, float16 or bfloat16, got " + dtypeName(xa.dtype));
    require(ya.dtype == xa.dtype && ya.shape == xa.shape, name + ": y must match x in shape and dtype");
    ElementwiseCall call{xa.dtype, {}};
    call.args.x = reinterpret_cast<void const*>(xa.ptr);
    call.args.y = reinterpret_cast<void*>(ya.ptr);
    call.args.n = xa.size;
    if (bias != nullptr)
    {
        require(bias->dtype == xa.dtype, name + ": bias must have x's dtype");
        require(bias->shape.size() == 1 && bias->size == xa.lastDim() && !xa.shape.empty(),
            name + ": bias must be 1-D with the length of x's last axis");
        call.args.bias = reinterpret_cast<void const*>(bias->ptr);
        call.args.biasLen = bias->size;
    }
    if (skip != nullptr)
    {
        require(skip->dtype == xa.dtype && skip->shape == xa.shape, name + ": skip must match x in shape and dtype");
        call.args.skip = reinterpret_cast<void const*>(skip->ptr);
    }
    return call;
}

} // namespace trtplug
