#include "common/binding.h"
#include "inverse/inverse.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void inverseArrays(py::handle x, py::handle y, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16, "inverse: x must be float32 or float16");
    require(xa.shape.size() >= 2 && xa.shape[xa.shape.size() - 1] == xa.shape[xa.shape.size() - 2],
        "inverse: x must be a batch of square matrices (..., M, M)");
    int64_t const m = xa.shape.back();
    require(m <= kMaxMatrixDim, "inverse: matrices above " + std::to_string(kMaxMatrixDim) + " x "
        + std::to_string(kMaxMatrixDim) + " are not supported");
    std::vector<int64_t> const expected(xa.shape);
    require(ya.dtype == xa.dtype && ya.shape == expected, "inverse: y must have x's dtype and shape");
    int64_t const batch = m == 0 ? ya.size : xa.size / (m * m);
    checkCuda(launchInverse(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr), batch,
                  static_cast<int32_t>(m), toStream(stream)),
        "inverse");
}

} // namespace

TRTPLUG_BINDING(inverse)
{
    m.def("inverse", &inverseArrays, "Inverse of a batch of square matrices x (..., M, M) into y (CUDA arrays)", "x"_a, "y"_a,
        "stream"_a = py::none());
}
