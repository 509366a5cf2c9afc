// Shared pybind11 plumbing for op bindings: device arrays from CuPy/torch/any object with
// __cuda_array_interface__ (or raw pointers), streams, error translation, and the registrar
// that lets each plugins/<op>/binding.cpp add itself to trtplug._native (no central list).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trtplug
{

//! A C-contiguous device buffer described by __cuda_array_interface__.
struct DeviceArray
{
    uintptr_t ptr{0};
    std::vector<int64_t> shape;
    DType dtype{DType::kFLOAT32};
    int64_t size{0}; //!< element count

    int64_t lastDim() const { return shape.empty() ? 1 : shape.back(); }
};

//! Parses `obj` (argument `name`, for error messages). Raises ValueError for non-contiguous
//! arrays, read-only outputs or unsupported dtypes.
DeviceArray toDeviceArray(pybind11::handle obj, char const* name, bool writable);

//! None -> default stream; int -> raw cudaStream_t; objects with `.ptr` (cupy.cuda.Stream)
//! or `.cuda_stream` (torch.cuda.Stream) -> their handle.
cudaStream_t toStream(pybind11::handle obj);

//! DType from a NumPy-style name ("float32", "float16", ...); raises ValueError otherwise.
DType dtypeFromName(std::string const& name);

//! Raises ValueError with `message` unless `ok`.
void require(bool ok, std::string const& message);

//! Raises RuntimeError naming `what` unless `err` is cudaSuccess.
void checkCuda(cudaError_t err, char const* what);

using BindingFn = void (*)(pybind11::module_&);
int registerBinding(char const* op, BindingFn fn);
std::vector<std::pair<std::string, BindingFn>>& bindingRegistry();

} // namespace trtplug

//! Defines the binding body of one op; it runs when trtplug._native is imported.
#define TRTPLUG_BINDING(op)                                                                                            \
    static void trtplugBind_##op(pybind11::module_& m);                                                                \
    [[maybe_unused]] static int const kTrtplugBinding_##op = ::trtplug::registerBinding(#op, trtplugBind_##op);        \
    static void trtplugBind_##op(pybind11::module_& m)

//! Defines extra functions next to op `op`'s binding (e.g. a workspace-size query); they are not
//! listed in trtplug._native.ops.
#define TRTPLUG_BINDING_HELPERS(op)                                                                                    \
    static void trtplugHelpers_##op(pybind11::module_& m);                                                             \
    [[maybe_unused]] static int const kTrtplugHelpers_##op = ::trtplug::registerBinding("", trtplugHelpers_##op);      \
    static void trtplugHelpers_##op(pybind11::module_& m)
