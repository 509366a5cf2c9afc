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

//! Validates the arrays (None for an absent bias/skip) and fills launcher arguments;
//! raises ValueError naming `op` and the argument otherwise.
inline ElementwiseCall elementwiseCall(
    char const* op, pybind11::handle x, pybind11::handle y, pybind11::handle bias, pybind11::handle skip)
{
    std::string const name(op);
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16,
        name + ": x must be float32 or float16, got " + dtypeName(xa.dtype));
    require(ya.dtype == xa.dtype && ya.shape == xa.shape, name + ": y must match x in shape and dtype");
    ElementwiseCall call{xa.dtype, {}};
    call.args.x = reinterpret_cast<void const*>(xa.ptr);
    call.args.y = reinterpret_cast<void*>(ya.ptr);
    call.args.n = xa.size;
    if (!bias.is_none())
    {
        DeviceArray const ba = toDeviceArray(bias, "bias", false);
        require(ba.dtype == xa.dtype, name + ": bias must have x's dtype");
        require(ba.shape.size() == 1 && ba.size == xa.lastDim() && !xa.shape.empty(),
            name + ": bias must be 1-D with the length of x's last axis");
        call.args.bias = reinterpret_cast<void const*>(ba.ptr);
        call.args.biasLen = ba.size;
    }
    if (!skip.is_none())
    {
        DeviceArray const sa = toDeviceArray(skip, "skip", false);
        require(sa.dtype == xa.dtype && sa.shape == xa.shape, name + ": skip must match x in shape and dtype");
        call.args.skip = reinterpret_cast<void const*>(sa.ptr);
    }
    return call;
}

} // namespace trtplug
