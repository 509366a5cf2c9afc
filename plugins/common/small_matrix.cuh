// Batched small-matrix kernels' shared parts (Det, Inverse): matrices of M x M with M a
// compile-time constant up to kMaxRegisterDim live in registers, one thread per matrix; row
// swaps for partial pivoting are predicated selects over unrolled rows, so no array is ever
// indexed by a runtime value (which would push it to local memory). Larger M: one block per
// matrix in shared memory. Math in float32 for float32 and float16 data.
#pragma once

#include "common/launch.cuh"
#include "common/small_matrix.h"

#include <type_traits>

namespace trtplug
{
namespace small_matrix
{

constexpr int kMaxRegisterDim = 8;

__device__ __forceinline__ float load(float const* p) { return __ldg(p); }
__device__ __forceinline__ float load(__half const* p) { return __half2float(*p); }
__device__ __forceinline__ float load(__nv_bfloat16 const* p) { return __bfloat162float(*p); }

template <int M, class T>
__device__ __forceinline__ void loadMatrix(T const* src, float (&a)[M][M])
{
#pragma unroll
    for (int r = 0; r < M; ++r)
    {
#pragma unroll
        for (int c = 0; c < M; ++c)
        {
            a[r][c] = load(src + r * M + c);
        }
    }
}

//! Row of the largest |a[r][k]| for r >= k (partial pivoting).
template <int M>
__device__ __forceinline__ int pivotRow(float const (&a)[M][M], int k)
{
    int p = k;
    float best = fabsf(a[k][k]);
#pragma unroll
    for (int r = 0; r < M; ++r)
    {
        if (r > k && fabsf(a[r][k]) > best)
        {
            best = fabsf(a[r][k]);
            p = r;
        }
    }
    return p;
}

//! Swaps rows k and p of `a` (p >= k) with selects over unrolled rows.
template <int M>
__device__ __forceinline__ void swapRows(float (&a)[M][M], int k, int p)
{
#pragma unroll
    for (int r = 0; r < M; ++r)
    {
        if (r == k)
        {
#pragma unroll
            for (int s = 0; s < M; ++s)
            {
                if (s > k && s == p)
                {
#pragma unroll
                    for (int c = 0; c < M; ++c)
                    {
                        float const t = a[r][c];
                        a[r][c] = a[s][c];
                        a[s][c] = t;
                    }
                }
            }
        }
    }
}

// Shared-memory path: one block per matrix, rows padded to a stride of m + 1 (see sharedBytes).

//! Block-wide: the m x m row-major matrix at `src` into `a`, rows m + 1 apart.
template <class T>
__device__ __forceinline__ void loadSharedMatrix(T const* src, float* a, int m)
{
    for (int i = threadIdx.x; i < m * m; i += blockDim.x)
    {
        a[(i / m) * (m + 1) + i % m] = load(src + i);
    }
}

//! One thread: the row of the largest |a[r][k]| for r >= k (partial pivoting), rows m + 1 apart.
__device__ __forceinline__ int sharedPivotRow(float const* a, int m, int k)
{
    int const lda = m + 1;
    int p = k;
    for (int r = k + 1; r < m; ++r)
    {
        p = fabsf(a[r * lda + k]) > fabsf(a[p * lda + k]) ? r : p;
    }
    return p;
}

//! Block-wide: swaps rows k and p (p != k) of the m-column matrix `a` whose rows are `ld` apart.
__device__ __forceinline__ void swapSharedRows(float* a, int ld, int m, int k, int p)
{
    for (int c = threadIdx.x; c < m; c += blockDim.x)
    {
        float const t = a[k * ld + c];
        a[k * ld + c] = a[p * ld + c];
        a[p * ld + c] = t;
    }
}

} // namespace small_matrix
} // namespace trtplug

namespace trtplug
{
namespace small_matrix
{

//! Calls f(std::integral_constant<int, m>{}) for 1 <= m <= kMaxRegisterDim; false otherwise.
template <int M = 1, class F>
__host__ bool dispatchDim(int m, F&& f)
{
    if (m == M)
    {
        f(std::integral_constant<int, M>{});
        return true;
    }
    if constexpr (M < kMaxRegisterDim)
    {
        return dispatchDim<M + 1>(m, static_cast<F&&>(f));
    }
    return false;
}

//! Shared memory of the one-block-per-matrix path: the matrix (rows padded by one against bank
//! conflicts), the inverse's right-hand side when `withRhs`, and one elimination factor per row.
constexpr size_t sharedBytes(int m, bool withRhs) noexcept
{
    return sizeof(float) * (static_cast<size_t>(m) * (m + 1) + (withRhs ? static_cast<size_t>(m) * m : 0) + m);
}
static_assert(sharedBytes(kMaxMatrixDim, true) <= 48 * 1024, "launches would need a larger dynamic shared memory opt-in");

constexpr int kSharedThreads = 128;

} // namespace small_matrix
} // namespace trtplug
