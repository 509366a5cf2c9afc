// pybind11 glue shared by the integer elementwise ops: checks CUDA arrays against the
// broadcast shape and calls the op's launcher. Used from plugins/<op>/binding.cpp only.
#pragma once

#include "common/binding.h"
#include "common/int_elementwise.h"

#include <string>
#include <vector>

namespace trtplug
{

//! y = op(a, b) (b None for unary ops) on CUDA arrays; y must have the broadcast shape.
inline void runIntElementwise(IntElementwiseFn fn, char const* name, pybind11::handle a, pybind11::handle b,
    pybind11::handle y, pybind11::handle stream)
{
    DeviceArray const aa = toDeviceArray(a, "a", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    DeviceArray ba = aa;
    if (!b.is_none())
    {
        ba = toDeviceArray(b, "b", false);
    }
    std::string const op(name);
    require(isIntElementwiseType(aa.dtype), op + ": a must be int32, int64, uint8 or int8, got " + dtypeName(aa.dtype));
    require(ba.dtype == aa.dtype && ya.dtype == aa.dtype, op + ": a, b and y must have one dtype");
    Broadcast shape;
    require(makeBroadcast(aa.shape.data(), static_cast<int32_t>(aa.shape.size()), ba.shape.data(),
                static_cast<int32_t>(ba.shape.size()), shape),
        op + ": a and b do not broadcast");
    require(ya.shape == std::vector<int64_t>(shape.outDims, shape.outDims + shape.outRank),
        op + ": y must have the broadcast shape of a and b");
    void const* bp = b.is_none() ? nullptr : reinterpret_cast<void const*>(ba.ptr);
    checkCuda(fn(aa.dtype, reinterpret_cast<void const*>(aa.ptr), bp, reinterpret_cast<void*>(ya.ptr), shape,
                  toStream(stream)),
        name);
}

} // namespace trtplug

//! Binds `<op>(a, [b,] y, stream=None)` for an integer elementwise launcher.
#define TRTPLUG_BIND_INT_BINARY(m, op, fn)                                                                              \
    m.def(                                                                                                             \
        op,                                                                                                            \
        [](pybind11::handle a, pybind11::handle b, pybind11::handle y, pybind11::handle stream) {                      \
            ::trtplug::runIntElementwise(fn, op, a, b, y, stream);                                                     \
        },                                                                                                             \
        op " on CUDA integer arrays with NumPy broadcasting", pybind11::arg("a"), pybind11::arg("b"),                   \
        pybind11::arg("y"), pybind11::arg("stream") = pybind11::none())
