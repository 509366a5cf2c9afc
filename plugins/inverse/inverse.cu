#include "common/dtype_dispatch.cuh"
#include "common/small_matrix.cuh"
#include "inverse/inverse.h"

namespace trtplug
{
namespace
{
using namespace small_matrix;

// One thread per matrix, in registers: Gauss-Jordan on [A | I] with partial pivoting.
template <int M, class T>
__global__ void __launch_bounds__(128) inverseRegisters(T const* __restrict__ x, T* __restrict__ y, int64_t batch)
{
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t b = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < batch; b += stride)
    {
        float a[M][M];
        float v[M][M];
        loadMatrix<M>(x + b * M * M, a);
#pragma unroll
        for (int r = 0; r < M; ++r)
        {
#pragma unroll
            for (int c = 0; c < M; ++c)
            {
                v[r][c] = r == c ? 1.f : 0.f;
            }
        }
#pragma unroll
        for (int k = 0; k < M; ++k)
        {
            int const p = pivotRow<M>(a, k);
            swapRows<M>(a, k, p);
            swapRows<M>(v, k, p);
            float const inv = 1.f / a[k][k];
#pragma unroll
            for (int c = 0; c < M; ++c)
            {
                a[k][c] *= inv;
                v[k][c] *= inv;
            }
#pragma unroll
            for (int r = 0; r < M; ++r)
            {
                if (r != k)
                {
                    float const f = a[r][k];
#pragma unroll
                    for (int c = 0; c < M; ++c)
                    {
                        a[r][c] = fmaf(-f, a[k][c], a[r][c]);
                        v[r][c] = fmaf(-f, v[k][c], v[r][c]);
                    }
                }
            }
        }
        T* out = y + b * M * M;
#pragma unroll
        for (int r = 0; r < M; ++r)
        {
#pragma unroll
            for (int c = 0; c < M; ++c)
            {
                out[r * M + c] = fromFloat<T>(v[r][c]);
            }
        }
    }
}

// One block per matrix in shared memory, for kMaxRegisterDim < m <= kMaxMatrixDim.
template <class T>
__global__ void inverseShared(T const* __restrict__ x, T* __restrict__ y, int64_t batch, int m)
{
    extern __shared__ float smem[];
    __shared__ int sPivot;
    int const lda = m + 1;
    float* a = smem;
    float* v = a + m * lda;
    float* factor = v + m * m;
    for (int64_t b = blockIdx.x; b < batch; b += gridDim.x)
    {
        loadSharedMatrix(x + b * m * m, a, m);
        for (int i = threadIdx.x; i < m * m; i += blockDim.x)
        {
            v[i] = i / m == i % m ? 1.f : 0.f;
        }
        __syncthreads();
        for (int k = 0; k < m; ++k)
        {
            if (threadIdx.x == 0)
            {
                sPivot = sharedPivotRow(a, m, k);
            }
            __syncthreads();
            int const p = sPivot;
            if (p != k)
            {
                swapSharedRows(a, lda, m, k, p);
                swapSharedRows(v, m, m, k, p);
            }
            __syncthreads();
            float const inv = 1.f / a[k * lda + k];
            __syncthreads(); // every thread read the pivot before row k is scaled
            for (int c = threadIdx.x; c < m; c += blockDim.x)
            {
                a[k * lda + c] *= inv;
                v[k * m + c] *= inv;
            }
            for (int r = threadIdx.x; r < m; r += blockDim.x)
            {
                factor[r] = a[r * lda + k];
            }
            __syncthreads();
            for (int i = threadIdx.x; i < m * m; i += blockDim.x)
            {
                int const r = i / m;
                int const c = i % m;
                if (r != k) // row k is read by every other row's update: writing it too would race
                {
                    a[r * lda + c] = fmaf(-factor[r], a[k * lda + c], a[r * lda + c]);
                    v[r * m + c] = fmaf(-factor[r], v[k * m + c], v[r * m + c]);
                }
            }
            __syncthreads();
        }
        for (int i = threadIdx.x; i < m * m; i += blockDim.x)
        {
            y[b * m * m + i] = fromFloat<T>(v[i]);
        }
        __syncthreads();
    }
}

template <class T>
cudaError_t launchTyped(void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream)
{
    auto const* xt = static_cast<T const*>(x);
    auto* yt = static_cast<T*>(y);
    bool const small = dispatchDim(m, [&](auto dim) {
        constexpr int kM = decltype(dim)::value;
        inverseRegisters<kM, T><<<gridFor(batch, 128), 128, 0, stream>>>(xt, yt, batch);
    });
    if (!small)
    {
        size_t const bytes = sharedBytes(m, true);
        int const blocks = static_cast<int>(std::min<int64_t>(batch, int64_t{multiprocessorCount()} * 16));
        inverseShared<T><<<blocks, kSharedThreads, bytes, stream>>>(xt, yt, batch, m);
    }
    return cudaGetLastError();
}

} // namespace

cudaError_t launchInverse(DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream) noexcept
{
    if (batch < 0 || m < 0 || m > kMaxMatrixDim)
    {
        return cudaErrorInvalidValue;
    }
    if (batch == 0 || m == 0)
    {
        return cudaSuccess;
    }
    return forFloatOrBf16Type(dtype, [&](auto zero) { return launchTyped<decltype(zero)>(x, y, batch, m, stream); });
}

} // namespace trtplug
