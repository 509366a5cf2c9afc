#include "common/dtype_dispatch.cuh"
#include "affine_grid/affine_grid.h"
#include "common/launch.cuh"

namespace trtplug
{
namespace
{

struct GridDims
{
    int64_t batch;
    int64_t depth; // 1 for 2-D
    int64_t height;
    int64_t width;
    float scale[3]; // base coordinate i -> i * scale + offset, for w, h, d
    float offset[3];
};

__device__ __forceinline__ float loadTheta(float const* t, int i) { return __ldg(t + i); }
__device__ __forceinline__ float loadTheta(__half const* t, int i) { return __half2float(t[i]); }
__device__ __forceinline__ float loadTheta(__nv_bfloat16 const* t, int i) { return __bfloat162float(t[i]); }

template <class T>
__device__ __forceinline__ void store2(T* p, float a, float b);
template <>
__device__ __forceinline__ void store2<float>(float* p, float a, float b)
{
    *reinterpret_cast<float2*>(p) = make_float2(a, b);
}
template <>
__device__ __forceinline__ void store2<__half>(__half* p, float a, float b)
{
    *reinterpret_cast<__half2*>(p) = __floats2half2_rn(a, b);
}
template <>
__device__ __forceinline__ void store2<__nv_bfloat16>(__nv_bfloat16* p, float a, float b)
{
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b);
}

// One thread per grid point (n, h, w): two outputs as one 8- or 4-byte store.
template <class T>
__global__ void affineGrid2d(T const* __restrict__ theta, T* __restrict__ grid, GridDims g)
{
    int64_t const points = g.batch * g.height * g.width;
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t p = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; p < points; p += stride)
    {
        int64_t const w = p % g.width;
        int64_t const h = (p / g.width) % g.height;
        int64_t const n = p / (g.width * g.height);
        float const x = static_cast<float>(w) * g.scale[0] + g.offset[0];
        float const y = static_cast<float>(h) * g.scale[1] + g.offset[1];
        T const* t = theta + n * 6;
        float const gx = fmaf(loadTheta(t, 0), x, fmaf(loadTheta(t, 1), y, loadTheta(t, 2)));
        float const gy = fmaf(loadTheta(t, 3), x, fmaf(loadTheta(t, 4), y, loadTheta(t, 5)));
        store2(grid + 2 * p, gx, gy);
    }
}

template <class T>
__global__ void affineGrid3d(T const* __restrict__ theta, T* __restrict__ grid, GridDims g)
{
    int64_t const points = g.batch * g.depth * g.height * g.width;
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t p = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; p < points; p += stride)
    {
        int64_t const w = p % g.width;
        int64_t const h = (p / g.width) % g.height;
        int64_t const d = (p / (g.width * g.height)) % g.depth;
        int64_t const n = p / (g.width * g.height * g.depth);
        float const c[3] = {static_cast<float>(w) * g.scale[0] + g.offset[0],
            static_cast<float>(h) * g.scale[1] + g.offset[1], static_cast<float>(d) * g.scale[2] + g.offset[2]};
        T const* t = theta + n * 12;
#pragma unroll
        for (int r = 0; r < 3; ++r)
        {
            float v = loadTheta(t, 4 * r + 3);
#pragma unroll
            for (int k = 0; k < 3; ++k)
            {
                v = fmaf(loadTheta(t, 4 * r + k), c[k], v);
            }
            grid[3 * p + r] = fromFloat<T>(v);
        }
    }
}

//! Base coordinate of index i along an axis of length L: i * scale + offset.
void axisCoefficients(int64_t length, bool alignCorners, float& scale, float& offset)
{
    if (alignCorners)
    {
        scale = length > 1 ? 2.f / static_cast<float>(length - 1) : 0.f;
        offset = -1.f;
    }
    else
    {
        scale = length > 0 ? 2.f / static_cast<float>(length) : 0.f;
        offset = length > 0 ? -1.f + 1.f / static_cast<float>(length) : 0.f;
    }
}

template <class T>
cudaError_t launchTyped(void const* theta, void* grid, GridDims const& g, bool is3d, cudaStream_t stream)
{
    int64_t const points = g.batch * g.depth * g.height * g.width;
    auto const* t = static_cast<T const*>(theta);
    auto* out = static_cast<T*>(grid);
    if (is3d)
    {
        affineGrid3d<T><<<gridFor(points), kBlockThreads, 0, stream>>>(t, out, g);
    }
    else
    {
        affineGrid2d<T><<<gridFor(points), kBlockThreads, 0, stream>>>(t, out, g);
    }
    return cudaGetLastError();
}

} // namespace

cudaError_t launchAffineGrid(DType dtype, void const* theta, void* grid, int64_t batch, int64_t depth, int64_t height,
    int64_t width, bool is3d, bool alignCorners, cudaStream_t stream) noexcept
{
    if (batch < 0 || (is3d && depth < 0) || height < 0 || width < 0)
    {
        return cudaErrorInvalidValue;
    }
    GridDims g{batch, is3d ? depth : 1, height, width, {}, {}};
    if (g.batch * g.depth * g.height * g.width == 0)
    {
        return cudaSuccess;
    }
    // 2-byte fp16 pairs need 4-byte alignment, fp32 pairs 8-byte (cudaMalloc gives 256).
    if (!is3d && !isAligned(grid, 2 * dtypeSize(dtype)))
    {
        return cudaErrorMisalignedAddress;
    }
    axisCoefficients(width, alignCorners, g.scale[0], g.offset[0]);
    axisCoefficients(height, alignCorners, g.scale[1], g.offset[1]);
    axisCoefficients(g.depth, alignCorners, g.scale[2], g.offset[2]);
    return forFloatOrBf16Type(
        dtype, [&](auto zero) { return launchTyped<decltype(zero)>(theta, grid, g, is3d, stream); });
}

} // namespace trtplug
