#include "affine_grid/affine_grid.h"
#include "common/binding.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

//! Dims from grid's shape: N x H x W x 2 (2-D) or N x D x H x W x 3 (3-D); theta must match.
void affineGridArrays(py::handle theta, py::handle grid, int alignCorners, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const t = toDeviceArray(theta, "theta", false);
    DeviceArray const g = toDeviceArray(grid, "grid", true);
    require(t.dtype == DType::kFLOAT32 || t.dtype == DType::kFLOAT16, "affine_grid: theta must be float32 or float16");
    require(g.dtype == t.dtype, "affine_grid: grid must have theta's dtype");
    bool const is3d = g.shape.size() == 5;
    require(g.shape.size() == 4 || is3d, "affine_grid: grid must be N x H x W x 2 or N x D x H x W x 3");
    int64_t const k = is3d ? 3 : 2;
    require(g.shape.back() == k && t.shape == std::vector<int64_t>{g.shape[0], k, k + 1},
        "affine_grid: theta must be N x 2 x 3 (2-D) or N x 3 x 4 (3-D) with grid's N");
    int64_t const depth = is3d ? g.shape[1] : 0;
    checkCuda(launchAffineGrid(t.dtype, reinterpret_cast<void const*>(t.ptr), reinterpret_cast<void*>(g.ptr),
                  g.shape[0], depth, g.shape[is3d ? 2 : 1], g.shape[is3d ? 3 : 2], is3d, alignCorners != 0,
                  toStream(stream)),
        "affine_grid");
}

} // namespace

TRTPLUG_BINDING(affine_grid)
{
    m.def("affine_grid", &affineGridArrays, "AffineGrid(theta) into grid (CUDA arrays; dims from grid's shape)",
        "theta"_a, "grid"_a, "align_corners"_a = 0, "stream"_a = py::none());
}
