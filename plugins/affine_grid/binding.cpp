#include "affine_grid/affine_grid.h"
#include "affine_grid/op_glue.h"
#include "common/op_binding.h"

//! AffineGrid(theta) into grid; the dims come from grid's shape: N x H x W x 2 (2-D) or
//! N x D x H x W x 3 (3-D), which the caller allocated from size's values (size itself, a
//! device int64 array of grid's rank, is not read).
TRTPLUG_OP_BINDING(affine_grid)
{
    using namespace trtplug;
    DeviceArray const& t = call.in(0);
    DeviceArray const& size = call.in(1);
    DeviceArray const& g = call.out(0);
    call.check(isFloatDType(t.dtype), "theta must be float32, float16 or bfloat16");
    call.check(g.dtype == t.dtype, "grid must have theta's dtype");
    bool const is3d = g.shape.size() == 5;
    call.check(g.shape.size() == 4 || is3d, "grid must be N x H x W x 2 or N x D x H x W x 3");
    int64_t const k = is3d ? 3 : 2;
    call.check(g.shape.back() == k && t.shape == std::vector<int64_t>{g.shape[0], k, k + 1},
        "theta must be N x 2 x 3 (2-D) or N x 3 x 4 (3-D) with grid's N");
    call.check(size.dtype == DType::kINT64 && size.shape == std::vector<int64_t>{k + 2},
        "size must be int64 with one value per dim of (N, C, [D,] H, W)");
    int64_t const depth = is3d ? g.shape[1] : 0;
    checkCuda(launchAffineGrid(t.dtype, reinterpret_cast<void const*>(t.ptr), reinterpret_cast<void*>(g.ptr),
                  g.shape[0], depth, g.shape[is3d ? 2 : 1], g.shape[is3d ? 3 : 2], is3d,
                  call.params.align_corners != 0, call.stream),
        "affine_grid");
}
