// Shared pybind11 plumbing behind binding.h (device arrays, streams, dtypes, errors), compiled
// into every module that takes CUDA arrays from Python: trtplug._native and trtplug._plugin_host.
#include "common/binding.h"

#include <pybind11/stl.h>

#include <stdexcept>

namespace py = pybind11;

namespace trtplug
{

void require(bool ok, std::string const& message)
{
    if (!ok)
    {
        throw py::value_error(message);
    }
}

void checkCuda(cudaError_t err, char const* what)
{
    if (err != cudaSuccess)
    {
        // Consumed here, so that the failure reported now is not reported again by the next
        // launcher's cudaGetLastError() (a failed allocation would fail every call after it).
        static_cast<void>(cudaGetLastError());
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
    }
}

DType dtypeFromName(std::string const& name)
{
    for (DType t : {DType::kFLOAT32, DType::kFLOAT16, DType::kBFLOAT16, DType::kINT32, DType::kINT64, DType::kINT8,
             DType::kUINT8, DType::kBOOL})
    {
        if (name == dtypeName(t))
        {
            return t;
        }
    }
    throw py::value_error("unsupported dtype '" + name + "'");
}

static DType dtypeFromTypestr(std::string const& typestr, char const* name)
{
    // __cuda_array_interface__ typestr: byte order, kind, item size ("<f4", "<f2", "|b1", ...).
    std::string const body = typestr.size() > 1 ? typestr.substr(1) : typestr;
    if (body == "f4") return DType::kFLOAT32;
    if (body == "f2") return DType::kFLOAT16;
    if (body == "i4") return DType::kINT32;
    if (body == "i8") return DType::kINT64;
    if (body == "i1") return DType::kINT8;
    if (body == "u1") return DType::kUINT8;
    if (body == "b1") return DType::kBOOL;
    // bfloat16 has no NumPy kind letter: ml_dtypes and trtplug.native.Bf16Device export "<V2".
    if (body == "V2") return DType::kBFLOAT16;
    throw py::value_error(std::string(name) + ": unsupported array dtype '" + typestr + "'");
}

DeviceArray toDeviceArray(py::handle obj, char const* name, bool writable)
{
    // One attribute read: the interface is a property that CuPy and torch build anew on each access
    // (a hasattr() check first doubled the per-array cost of every call).
    py::object const interface = py::getattr(obj, "__cuda_array_interface__", py::none());
    require(!interface.is_none(),
        std::string(name) + ": expected a CUDA array (CuPy, torch, ...) with __cuda_array_interface__");
    auto const cai = interface.cast<py::dict>();
    DeviceArray a;
    auto data = cai["data"].cast<py::tuple>();
    a.ptr = data[0].cast<uintptr_t>();
    require(!(writable && data[1].cast<bool>()), std::string(name) + ": output array is read-only");
    a.dtype = dtypeFromTypestr(cai["typestr"].cast<std::string>(), name);
    a.size = 1;
    for (auto d : cai["shape"].cast<py::tuple>())
    {
        a.shape.push_back(d.cast<int64_t>());
        a.size *= a.shape.back();
    }
    if (cai.contains("strides") && !cai["strides"].is_none() && a.size > 1)
    {
        auto strides = cai["strides"].cast<std::vector<int64_t>>();
        int64_t expected = static_cast<int64_t>(dtypeSize(a.dtype));
        for (size_t i = a.shape.size(); i-- > 0;)
        {
            require(a.shape[i] == 1 || strides[i] == expected, std::string(name) + ": array must be C-contiguous");
            expected *= a.shape[i];
        }
    }
    return a;
}

cudaStream_t toStream(py::handle obj)
{
    if (obj.is_none())
    {
        return nullptr;
    }
    if (py::isinstance<py::int_>(obj))
    {
        return reinterpret_cast<cudaStream_t>(obj.cast<uintptr_t>());
    }
    for (char const* attr : {"ptr", "cuda_stream"})
    {
        if (py::hasattr(obj, attr))
        {
            return reinterpret_cast<cudaStream_t>(obj.attr(attr).cast<uintptr_t>());
        }
    }
    throw py::value_error("stream: expected None, an int handle, or an object with .ptr/.cuda_stream");
}

} // namespace trtplug
