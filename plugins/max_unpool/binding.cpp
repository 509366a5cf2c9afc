#include "common/binding.h"
#include "common/stream_scratch.h"
#include "max_unpool/max_unpool.h"

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! y's spatial dims are the output's; `inferred` the unpooled tensor's ((in - 1) * s - pads + k).
void maxUnpoolArrays(py::handle x, py::handle indices, py::handle y, std::vector<int64_t> const& inferred,
    py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ia = toDeviceArray(indices, "indices", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16, "max_unpool: x must be float32 or float16");
    require(ia.dtype == DType::kINT64 && ia.shape == xa.shape, "max_unpool: indices must be int64 with x's shape");
    require(ya.dtype == xa.dtype, "max_unpool: y must have x's dtype");
    size_t const spatial = inferred.size();
    require(xa.shape.size() == spatial + 2 && ya.shape.size() == spatial + 2,
        "max_unpool: x and y must be (N, C, spatial...) with one spatial dim per inferred length");
    require(ya.shape[0] == xa.shape[0] && ya.shape[1] == xa.shape[1], "max_unpool: y must have x's N and C");
    cudaStream_t const s = toStream(stream);
    StreamScratch const workspace(kMaxUnpoolWorkspaceBytes, s); // as a TensorRT workspace would be
    checkCuda(launchMaxUnpool(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<int64_t const*>(ia.ptr),
                  reinterpret_cast<void*>(ya.ptr), xa.size, xa.shape[0] * xa.shape[1], static_cast<int32_t>(spatial),
                  xa.shape.data() + 2, inferred.data(), ya.shape.data() + 2, workspace.get(), s),
        "max_unpool");
}

} // namespace

TRTPLUG_BINDING(max_unpool)
{
    m.def("max_unpool", &maxUnpoolArrays, "MaxUnpool of x at flat indices into y (CUDA arrays)", "x"_a, "indices"_a,
        "y"_a, "inferred"_a, "stream"_a = py::none());
}
