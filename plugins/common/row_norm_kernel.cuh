// Row normalization shared by the norm kernels (SkipLayerNorm, SkipSimplifiedLayerNorm,
// EmbedLayerNorm): a team of threads (8 or 16 lanes of a warp for short rows, one warp, or several
// warps of a block) owns one row of
// `hidden` elements, keeps it in registers as float32 (kVecs vectors of N elements per thread),
// reduces mean and variance two-pass from those registers and writes the normalized row once.
// Rows too long for registers (kVecs == 0) stream: the loader is called once per pass.
//
// A Loader provides, for the row the team works on:
//   __device__ bool row(int64_t r);                     // select row r; false: write a NaN row
//   __device__ void load(int64_t j, float (&v)[N]) const;   // float sum of vector j of the row
// and may add a last step on each normalized vector (GatedRMSNorm's gate), compiled in only then:
//   static constexpr bool kFinishes = true;
//   __device__ void finish(int64_t j, float (&y)[N]) const;
// The launch (team width, registers per thread, the sub-warp switch) is row_norm.cuh's, which
// includes this file. Included only through row_norm.cuh.
#pragma once

#include "common/launch.cuh"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace trtplug
{

//! Where a normalized row goes. Null pointers are outputs the node does not use (not written).
template <typename T>
struct NormOutputs
{
    T* y{nullptr};              //!< (rows, hidden)
    T const* gamma{nullptr};    //!< (hidden)
    T const* beta{nullptr};     //!< (hidden) or null
    T* sum{nullptr};            //!< the pre-normalization row (rows, hidden) or null
    float* mean{nullptr};       //!< (rows) or null; 0 in RMS form
    float* invStdVar{nullptr};  //!< (rows) or null
};

//! Whether Loader has a finish step (a compile-time choice: the other norms' kernels, register-
//! bound at their widest teams, carry no trace of it).
template <class Loader, class = void>
struct LoaderFinishes : std::false_type
{
};

template <class Loader>
struct LoaderFinishes<Loader, std::void_t<decltype(Loader::kFinishes)>> : std::bool_constant<Loader::kFinishes>
{
};

__device__ __forceinline__ float warpSum(float v)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

//! Sum over aligned groups of kWidth lanes (a power of two up to 32); every lane of the warp calls it.
template <int kWidth>
__device__ __forceinline__ float laneGroupSum(float v)
{
#pragma unroll
    for (int offset = kWidth / 2; offset > 0; offset >>= 1)
    {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

//! Sum over a team of kTeam threads (8, 16 or a multiple of 32). Teams wider than a warp exchange
//! partial sums through `scratch` (kTeam / 32 floats per team) and synchronise the whole
//! block, so every thread of the block must call this the same number of times.
template <int kTeam>
__device__ __forceinline__ float teamSum(float v, float* scratch)
{
    if constexpr (kTeam <= 32)
    {
        return laneGroupSum<kTeam>(v); // sub-warp teams: the xor partners stay inside the team
    }
    else
    {
        v = warpSum(v);
        constexpr int kWarps = kTeam / 32;
        int const warp = (threadIdx.x % kTeam) / 32;
        __syncthreads(); // the previous call's readers are done with scratch
        if (threadIdx.x % 32 == 0)
        {
            scratch[warp] = v;
        }
        __syncthreads();
        float total = 0.F;
#pragma unroll
        for (int w = 0; w < kWarps; ++w)
        {
            total += scratch[w];
        }
        return total;
    }
}

template <typename T, int N>
__device__ __forceinline__ void loadFloat(T const* p, int64_t j, float (&v)[N])
{
    Vec<T, N> const in = reinterpret_cast<Vec<T, N> const*>(p)[j];
#pragma unroll
    for (int i = 0; i < N; ++i)
    {
        v[i] = toFloat(in.v[i]);
    }
}

template <typename T, int N>
__device__ __forceinline__ void storeFloat(T* p, int64_t j, float const (&v)[N])
{
    Vec<T, N> out;
#pragma unroll
    for (int i = 0; i < N; ++i)
    {
        out.v[i] = fromFloat<T>(v[i]);
    }
    reinterpret_cast<Vec<T, N>*>(p)[j] = out;
}

//! Writes vector j of row r: (v - mean) * inv * gamma (+ beta), then the loader's finish step if
//! it has one, and the raw sum if wanted.
template <typename T, int N, class Loader>
__device__ __forceinline__ void writeVector(Loader const& loader, NormOutputs<T> const& o, int64_t r, int64_t nVec,
    int64_t j, float const (&v)[N], float mean, float inv)
{
    float g[N];
    float y[N];
    loadFloat<T, N>(o.gamma, j, g);
    if (o.beta != nullptr)
    {
        loadFloat<T, N>(o.beta, j, y);
    }
#pragma unroll
    for (int i = 0; i < N; ++i)
    {
        float const b = o.beta != nullptr ? y[i] : 0.F;
        y[i] = (v[i] - mean) * inv * g[i] + b;
    }
    if constexpr (LoaderFinishes<Loader>::value)
    {
        loader.finish(j, y);
    }
    storeFloat<T, N>(o.y, r * nVec + j, y);
    if (o.sum != nullptr)
    {
        storeFloat<T, N>(o.sum, r * nVec + j, v);
    }
}

//! Threads per block for teams of kTeam threads: at least 4 warps, so warp teams share blocks.
constexpr int rowNormThreads(int team)
{
    return team < 128 ? 128 : team;
}

//! The register cache of one row: vectors j = lane + k * kTeam (k < kVecs), zeros past the row.
template <int N, int kTeam, int kVecs, class Loader>
__device__ __forceinline__ void loadRow(
    Loader const& loader, bool valid, int lane, int64_t nVec, float (&cache)[kVecs > 0 ? kVecs : 1][N])
{
#pragma unroll
    for (int k = 0; k < kVecs; ++k)
    {
        int64_t const j = lane + int64_t{k} * kTeam;
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            cache[k][i] = 0.F;
        }
        if (valid && j < nVec)
        {
            loader.load(j, cache[k]);
        }
    }
}

//! This thread's share of the row sum: from the cache, or (kVecs == 0) reloaded.
template <int N, int kTeam, int kVecs, class Loader>
__device__ __forceinline__ float partialSum(
    Loader const& loader, bool valid, int lane, int64_t nVec, float const (&cache)[kVecs > 0 ? kVecs : 1][N])
{
    float partial = 0.F;
    if constexpr (kVecs > 0)
    {
#pragma unroll
        for (int k = 0; k < kVecs; ++k)
        {
#pragma unroll
            for (int i = 0; i < N; ++i)
            {
                partial += cache[k][i];
            }
        }
    }
    else
    {
        for (int64_t j = lane; valid && j < nVec; j += kTeam)
        {
            float v[N];
            loader.load(j, v);
#pragma unroll
            for (int i = 0; i < N; ++i)
            {
                partial += v[i];
            }
        }
    }
    return partial;
}

//! This thread's share of sum((v - mean)^2) over the row (RMS: mean 0, the sum of squares).
template <int N, int kTeam, int kVecs, class Loader>
__device__ __forceinline__ float partialSquares(Loader const& loader, bool valid, int lane, int64_t nVec,
    float const (&cache)[kVecs > 0 ? kVecs : 1][N], float mean)
{
    float partial = 0.F;
    if constexpr (kVecs > 0)
    {
#pragma unroll
        for (int k = 0; k < kVecs; ++k)
        {
            bool const inRow = lane + int64_t{k} * kTeam < nVec;
#pragma unroll
            for (int i = 0; i < N; ++i)
            {
                float const d = cache[k][i] - mean;
                partial += inRow ? d * d : 0.F;
            }
        }
    }
    else
    {
        for (int64_t j = lane; valid && j < nVec; j += kTeam)
        {
            float v[N];
            loader.load(j, v);
#pragma unroll
            for (int i = 0; i < N; ++i)
            {
                partial += (v[i] - mean) * (v[i] - mean);
            }
        }
    }
    return partial;
}

//! Writes this thread's vectors of row r (a NaN row when !valid).
template <typename T, int N, int kTeam, int kVecs, class Loader>
__device__ __forceinline__ void writeRow(Loader const& loader, NormOutputs<T> const& out, bool valid, int lane,
    int64_t nVec, int64_t r, float (&cache)[kVecs > 0 ? kVecs : 1][N], float mean, float inv)
{
    float const nan = __int_as_float(0x7fc00000);
    if constexpr (kVecs > 0)
    {
#pragma unroll
        for (int k = 0; k < kVecs; ++k)
        {
            int64_t const j = lane + int64_t{k} * kTeam;
            if (j < nVec)
            {
                if (!valid)
                {
#pragma unroll
                    for (int i = 0; i < N; ++i)
                    {
                        cache[k][i] = nan;
                    }
                }
                writeVector<T, N>(loader, out, r, nVec, j, cache[k], mean, inv);
            }
        }
    }
    else
    {
        for (int64_t j = lane; j < nVec; j += kTeam)
        {
            float v[N];
            if (valid)
            {
                loader.load(j, v);
            }
            else
            {
#pragma unroll
                for (int i = 0; i < N; ++i)
                {
                    v[i] = nan;
                }
            }
            writeVector<T, N>(loader, out, r, nVec, j, v, mean, inv);
        }
    }
}

//! One row per team of kTeam threads, blockDim.x / kTeam rows per block, grid-stride over rows.
//! kVecs > 0: the row is held in registers (loadRow); kVecs == 0: every pass reloads it.
template <typename T, int N, int kTeam, int kVecs, bool kRms, class Loader>
__global__ void __launch_bounds__(rowNormThreads(kTeam))
    rowNormKernel(Loader loader, NormOutputs<T> out, int64_t rows, int64_t hidden, float epsilon)
{
    __shared__ float scratch[1024 / 32];
    int const teamsPerBlock = blockDim.x / kTeam;
    int const team = threadIdx.x / kTeam;
    int const lane = threadIdx.x % kTeam;
    float* teamScratch = scratch + team * (kTeam / 32);
    int64_t const nVec = hidden / N;
    float const invHidden = 1.F / static_cast<float>(hidden);
    for (int64_t base = int64_t{blockIdx.x} * teamsPerBlock; base < rows; base += int64_t{gridDim.x} * teamsPerBlock)
    {
        int64_t const r = base + team;
        bool const active = r < rows; // inactive teams still join the block-wide reductions
        bool const valid = active && loader.row(r);
        float cache[kVecs > 0 ? kVecs : 1][N];
        loadRow<N, kTeam, kVecs>(loader, valid, lane, nVec, cache);
        float mean = 0.F;
        if constexpr (!kRms)
        {
            mean = teamSum<kTeam>(partialSum<N, kTeam, kVecs>(loader, valid, lane, nVec, cache), teamScratch)
                * invHidden;
        }
        // Two-pass variance, from the centered row.
        float const squares = partialSquares<N, kTeam, kVecs>(loader, valid, lane, nVec, cache, mean);
        float const var = teamSum<kTeam>(squares, teamScratch) * invHidden;
        if (!active)
        {
            continue; // the last reduction is behind us: no more block-wide barriers this row
        }
        float const nan = __int_as_float(0x7fc00000);
        float const inv = valid ? 1.F / sqrtf(var + epsilon) : nan;
        mean = valid ? mean : nan;
        if (lane == 0 && out.mean != nullptr)
        {
            out.mean[r] = mean;
        }
        if (lane == 0 && out.invStdVar != nullptr)
        {
            out.invStdVar[r] = inv;
        }
        writeRow<T, N, kTeam, kVecs>(loader, out, valid, lane, nVec, r, cache, mean, inv);
    }
}

} // namespace trtplug
