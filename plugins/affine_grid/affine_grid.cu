#include "common/dtype_dispatch.cuh"
#include "affine_grid/affine_grid.h"
#include "affine_grid/affine_grid_vectors.cuh"

#include <climits>

namespace trtplug
{
namespace
{

// The per-vector work lives in affine_grid_vectors.cuh (shared with the host emulation test).
template <class T, int C, bool kWide, bool kVector>
__global__ void affineGridVectors(T const* __restrict__ theta, T* __restrict__ grid, GridVectors<kWide> g)
{
    gridThread<T, C, kWide, kVector>(theta, grid, g, blockIdx.x, gridDim.x, threadIdx.x, blockDim.x);
}

template <class T, int C, bool kWide>
cudaError_t launchVectors(T const* theta, T* grid, int64_t batch, int64_t depth, int64_t height, int64_t width,
    bool alignCorners, cudaStream_t stream)
{
    auto const g = makeGridVectors<kWide>(batch, depth, height, width, C, VectorShape<T, C>::kElems, alignCorners);
    int const blocks = gridFor((static_cast<int64_t>(g.vectors) + kAffineGridUnroll - 1) / kAffineGridUnroll);
    if (isAligned(grid, 16))
    {
        affineGridVectors<T, C, kWide, true><<<blocks, kBlockThreads, 0, stream>>>(theta, grid, g);
    }
    else
    {
        affineGridVectors<T, C, kWide, false><<<blocks, kBlockThreads, 0, stream>>>(theta, grid, g);
    }
    return cudaGetLastError();
}

template <class T>
cudaError_t launchTyped(void const* theta, void* grid, int64_t batch, int64_t depth, int64_t height, int64_t width,
    bool is3d, bool alignCorners, cudaStream_t stream)
{
    auto const* t = static_cast<T const*>(theta);
    auto* out = static_cast<T*>(grid);
    // 32-bit indices while every element index (and the last vector's end) stays below 2^31.
    bool const wide = batch * depth * height * width * (is3d ? 3 : 2) + 16 > INT32_MAX;
    if (is3d)
    {
        return wide ? launchVectors<T, 3, true>(t, out, batch, depth, height, width, alignCorners, stream)
                    : launchVectors<T, 3, false>(t, out, batch, depth, height, width, alignCorners, stream);
    }
    return wide ? launchVectors<T, 2, true>(t, out, batch, 1, height, width, alignCorners, stream)
                : launchVectors<T, 2, false>(t, out, batch, 1, height, width, alignCorners, stream);
}

} // namespace

cudaError_t launchAffineGrid(DType dtype, void const* theta, void* grid, int64_t batch, int64_t depth, int64_t height,
    int64_t width, bool is3d, bool alignCorners, cudaStream_t stream) noexcept
{
    if (batch < 0 || (is3d && depth < 0) || height < 0 || width < 0)
    {
        return cudaErrorInvalidValue;
    }
    int64_t const d = is3d ? depth : 1;
    if (batch * d * height * width == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(dtype, [&](auto zero)
        { return launchTyped<decltype(zero)>(theta, grid, batch, d, height, width, is3d, alignCorners, stream); });
}

} // namespace trtplug
