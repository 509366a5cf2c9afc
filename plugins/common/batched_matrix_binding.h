// pybind11 glue shared by the batched small-matrix ops (Det, Inverse): checks x (..., M, M) and y
// against the op's output shape and calls its launcher. Used from plugins/<op>/binding.cpp only.
#pragma once

#include "common/binding.h"
#include "common/small_matrix.h"

#include <string>
#include <vector>

namespace trtplug
{

using BatchedMatrixFn = cudaError_t (*)(
    DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream) noexcept;

//! y = op(x) for each M x M matrix of x; y is the batch shape (...) when `perMatrixScalar` (Det),
//! else x's shape (Inverse).
inline void runBatchedMatrix(BatchedMatrixFn fn, char const* name, bool perMatrixScalar, DeviceArray const& xa,
    DeviceArray const& ya, cudaStream_t stream)
{
    std::string const op(name);
    require(isFloatDType(xa.dtype), op + ": x must be float32, float16 or bfloat16");
    require(xa.shape.size() >= 2 && xa.shape[xa.shape.size() - 1] == xa.shape[xa.shape.size() - 2],
        op + ": x must be a batch of square matrices (..., M, M)");
    int64_t const m = xa.shape.back();
    require(m <= kMaxMatrixDim, op + ": matrices above " + std::to_string(kMaxMatrixDim) + " x "
        + std::to_string(kMaxMatrixDim) + " are not supported");
    std::vector<int64_t> const expected(xa.shape.begin(), xa.shape.end() - (perMatrixScalar ? 2 : 0));
    char const* const rule = perMatrixScalar ? ": y must have x's dtype and the batch shape (...)"
                                             : ": y must have x's dtype and shape";
    require(ya.dtype == xa.dtype && ya.shape == expected, op + rule);
    int64_t batch = 1; // the product of the dims before the last two (M may be 0)
    for (size_t i = 0; i + 2 < xa.shape.size(); ++i)
    {
        batch *= xa.shape[i];
    }
    checkCuda(fn(xa.dtype, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr), batch,
                  static_cast<int32_t>(m), stream),
        name);
}

} // namespace trtplug
