#include "common/dtype_dispatch.cuh"
#include "common/small_matrix.cuh"
#include "det/det.h"

namespace trtplug
{
namespace
{
using namespace small_matrix;

// One thread per matrix, in registers: LU with partial pivoting, det = sign * prod(pivots).
template <int M, class T>
__global__ void __launch_bounds__(128) detRegisters(T const* __restrict__ x, T* __restrict__ y, int64_t batch)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t b = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < batch; b += stride)
    {
        float a[M][M];
        loadMatrix<M>(x + b * M * M, a);
        float det = 1.f;
#pragma unroll
        for (int k = 0; k < M; ++k)
        {
            int const p = pivotRow<M>(a, k);
            det = p != k ? -det : det;
            swapRows<M>(a, k, p);
            float const pivot = a[k][k];
            det *= pivot;
            float const inv = pivot != 0.f ? 1.f / pivot : 0.f; // singular: det is 0 already
#pragma unroll
            for (int r = k + 1; r < M; ++r)
            {
                float const f = a[r][k] * inv;
#pragma unroll
                for (int c = k + 1; c < M; ++c)
                {
                    a[r][c] = fmaf(-f, a[k][c], a[r][c]);
                }
            }
        }
        y[b] = fromFloat<T>(det);
    }
}

// One block per matrix in shared memory, for kMaxRegisterDim < m <= kMaxMatrixDim.
template <class T>
__global__ void detShared(T const* __restrict__ x, T* __restrict__ y, int64_t batch, int m)
{
    extern __shared__ float smem[];
    __shared__ int sPivot;
    int const lda = m + 1;
    float* a = smem;
    float* factor = smem + m * lda;
    for (int64_t b = blockIdx.x; b < batch; b += gridDim.x)
    {
        loadSharedMatrix(x + b * m * m, a, m);
        __syncthreads();
        float det = 1.f; // thread 0's copy is the result
        for (int k = 0; k < m; ++k)
        {
            if (threadIdx.x == 0)
            {
                int const p = sharedPivotRow(a, m, k);
                det = (p != k ? -det : det) * a[p * lda + k];
                sPivot = p;
            }
            __syncthreads();
            int const p = sPivot;
            if (p != k)
            {
                swapSharedRows(a, lda, m, k, p);
            }
            __syncthreads();
            float const pivot = a[k * lda + k];
            for (int r = k + 1 + threadIdx.x; r < m; r += blockDim.x)
            {
                factor[r] = pivot != 0.f ? a[r * lda + k] / pivot : 0.f;
            }
            __syncthreads();
            int const rest = m - k - 1;
            for (int i = threadIdx.x; i < rest * rest; i += blockDim.x)
            {
                int const r = k + 1 + i / rest;
                int const c = k + 1 + i % rest;
                a[r * lda + c] = fmaf(-factor[r], a[k * lda + c], a[r * lda + c]);
            }
            __syncthreads();
        }
        if (threadIdx.x == 0)
        {
            y[b] = fromFloat<T>(det);
        }
        __syncthreads();
    }
}

template <class T>
__global__ void fillOne(T* __restrict__ y, int64_t n)
{
    for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    {
        y[i] = fromFloat<T>(1.f);
    }
}

template <class T>
cudaError_t launchTyped(void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream)
{
    auto const* xt = static_cast<T const*>(x);
    auto* yt = static_cast<T*>(y);
    if (m == 0)
    {
        fillOne<T><<<gridFor(batch), kBlockThreads, 0, stream>>>(yt, batch); // det of a 0 x 0 matrix
        return cudaGetLastError();
    }
    bool const small = dispatchDim(m, [&](auto dim) {
        constexpr int kM = decltype(dim)::value;
        detRegisters<kM, T><<<gridFor(batch, 128), 128, 0, stream>>>(xt, yt, batch);
    });
    if (!small)
    {
        int const blocks = static_cast<int>(std::min<int64_t>(batch, int64_t{multiprocessorCount()} * 16));
        detShared<T><<<blocks, kSharedThreads, sharedBytes(m, false), stream>>>(xt, yt, batch, m);
    }
    return cudaGetLastError();
}

} // namespace

cudaError_t launchDet(DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream) noexcept
{
    if (batch < 0 || m < 0 || m > kMaxMatrixDim)
    {
        return cudaErrorInvalidValue;
    }
    if (batch == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(dtype, [&](auto zero) { return launchTyped<decltype(zero)>(x, y, batch, m, stream); });
}

} // namespace trtplug
