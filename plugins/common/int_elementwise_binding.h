// Binding body shared by the integer elementwise ops (bitwise, shifts): checks the call's CUDA
// arrays against the broadcast shape and calls the op's launcher. Used from plugins/<op>/binding.cpp.
#pragma once

#include "common/int_elementwise.h"
#include "common/op_binding.h"

#include <string>
#include <vector>

namespace trtplug
{

//! y = op(a, b) with input 0 as a, input 1 (absent for unary ops) as b and output 0 as y, which
//! must have the broadcast shape.
template <class Params>
void runIntElementwise(IntElementwiseFn fn, OpCall<Params> const& call)
{
    DeviceArray const& a = call.in(0);
    DeviceArray const& b = call.hasIn(1) ? call.in(1) : a;
    DeviceArray const& y = call.out(0);
    call.check(isIntElementwiseType(a.dtype),
        std::string("inputs must be int32, int64, uint8 or int8, got ") + dtypeName(a.dtype));
    call.check(b.dtype == a.dtype && y.dtype == a.dtype, "inputs and output must have one dtype");
    Broadcast shape;
    call.check(makeBroadcast(a.shape.data(), static_cast<int32_t>(a.shape.size()), b.shape.data(),
                   static_cast<int32_t>(b.shape.size()), shape),
        "input shapes do not broadcast");
    call.check(y.shape == std::vector<int64_t>(shape.outDims, shape.outDims + shape.outRank),
        "the output must have the broadcast shape of the inputs");
    void const* bp = call.hasIn(1) ? reinterpret_cast<void const*>(b.ptr) : nullptr;
    checkCuda(fn(a.dtype, reinterpret_cast<void const*>(a.ptr), bp, reinterpret_cast<void*>(y.ptr), shape, call.stream),
        call.op.c_str());
}

} // namespace trtplug
