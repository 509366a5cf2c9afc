#include "common/binding.h"
#include "det/det.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void detArrays(py::handle x, py::handle y, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const xa = toDeviceArray(x, "x", false);
    DeviceArray const ya = toDeviceArray(y, "y", true);
    require(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16, "det: x must be float32 or float16");
    require(xa.shape.size() >= 2 && xa.shape[xa.shape.size() - 1] == xa.shape[xa.shape.size() - 2],
        "det: x must be a batch of square matrices (..., M, M)");
    int64_t const m = xa.shape.back();
    require(m <= kMaxMatrixDim, "det: matrices above " + std::to_string(kMaxMatrixDim) + " x "
        + std::to_string(kMaxMatrixDim) + " are not supported");
    std::vector<int64_t> const expected(xa.shape.begin(), xa.shape.end() - 2);
    require(ya.dtype == xa.dtype && ya.shape == expected, "det: y must have x's dtype and the batch shape (...)");
    int64_t const batch = m == 0 ? ya.size : xa.size / (m * m);
    checkCuda(launchDet(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr), batch,
                  static_cast<int32_t>(m), toStream(stream)),
        "det");
}

} // namespace

TRTPLUG_BINDING(det)
{
    m.def("det", &detArrays, "Det of a batch of square matrices x (..., M, M) into y (CUDA arrays)", "x"_a, "y"_a,
        "stream"_a = py::none());
}
