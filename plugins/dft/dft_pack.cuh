// The DFT's pack (cut or zero-pad each signal to n, to float32, as cuFFT's contiguous rows) and
// unpack (1 / n scale, conjugate mirror, cast, back to the output's layout) around cuFFT.
// A transformed axis that is not innermost (inner > 1) makes the signal of (o, i) column i of the
// [len, inner] matrix at outer index o: packRowsKernel and unpackRowsKernel then read
// (pack) or writes (unpack) at a stride of inner elements, a sector per element, so from
// kTransposeMinInner on 32 x 32 tiles go through shared memory and both sides move whole sectors.
// Included only from dft.cu.
#pragma once

#include "common/dtype.h"
#include "common/launch.cuh"
#include "dft/dft.h"

#include <cstdint>

namespace trtplug
{
namespace dft
{

//! STFT's framing: row b of the packed input is frame b % frames of signal b / frames.
struct FrameSource
{
    int64_t frames{1};
    int64_t step{0};
    int64_t signalLen{0};
};

template <class T>
__host__ __device__ __forceinline__ T const* sourceOf(
    T const* x, int64_t b, int64_t k, int64_t inLen, int64_t inner, int32_t inComps, FrameSource frame)
{
    if (frame.step > 0)
    {
        int64_t const signal = b / frame.frames;
        int64_t const start = (b - signal * frame.frames) * frame.step;
        return x + (signal * frame.signalLen + start + k) * inComps;
    }
    int64_t const o = b / inner;
    int64_t const i = b - o * inner;
    return x + ((o * inLen + k) * inner + i) * inComps;
}

//! The untiled pack's operands: rows of len packed values (float, or float2 unless realOut).
template <class T>
struct PackArgs
{
    T const* x;
    T const* window; //!< STFT's, or null
    float* packed;
    int64_t rows;
    int64_t len;
    int64_t inLen;
    int64_t inner;
    int32_t inComps;
    bool realOut;
    int64_t realBin; //!< C2R: the bin past DC whose imaginary part is dropped (0: DC only); < 0: not C2R
    FrameSource frame;
};

//! packed[b, k] = x[o, k, i] (b = o * inner + i) for k < inLen, else 0; real (R2C) or complex, for
//! k = firstK, firstK + kStep, ... A half spectrum (C2R) has its DC bin's (and an even n's Nyquist
//! bin's) imaginary part dropped, as numpy's irfft does: a Hermitian spectrum has none there,
//! cuFFT leaves it undefined. STFT (frame.step > 0): row b is frame b % frames of signal
//! b / frames, times the window. The row's source (a 64-bit division) is found once, not per
//! element: per element it made the STFT's pack instruction-bound (52 us where torch's window
//! multiply writes the same frames in 31, H100).
template <class T>
__host__ __device__ inline void packRowPart(PackArgs<T> const& a, int64_t b, int64_t firstK, int64_t kStep)
{
    T const* src = sourceOf(a.x, b, 0, a.inLen, a.inner, a.inComps, a.frame);
    int64_t const kStride = (a.frame.step > 0 ? 1 : a.inner) * a.inComps;
    for (int64_t k = firstK; k < a.len; k += kStep)
    {
        float re = 0.F;
        float im = 0.F;
        if (k < a.inLen)
        {
            T const* at = src + k * kStride;
            float const w = a.window != nullptr ? toFloat(a.window[k]) : 1.F;
            re = toFloat(at[0]) * w;
            bool const realValued = a.realBin >= 0 && (k == 0 || k == a.realBin);
            im = a.inComps == 2 && !realValued ? toFloat(at[1]) * w : 0.F;
        }
        int64_t const idx = b * a.len + k;
        if (a.realOut)
        {
            a.packed[idx] = re;
        }
        else
        {
            reinterpret_cast<float2*>(a.packed)[idx] = make_float2(re, im);
        }
    }
}

//! packRowsKernel's block: a warp or more along a row of `len`, short rows sharing a block.
inline dim3 packRowsBlock(int64_t len)
{
    auto const threads = static_cast<unsigned>(std::min<int64_t>(kBlockThreads, (len + 31) / 32 * 32));
    return dim3(threads, kBlockThreads / threads);
}

//! Rows b = blockIdx.x * blockDim.y + threadIdx.y (grid-stride), blockDim.x threads along a row.
template <class T>
__global__ void packRowsKernel(PackArgs<T> const a)
{
    int64_t const step = int64_t{gridDim.x} * blockDim.y;
    for (int64_t b = int64_t{blockIdx.x} * blockDim.y + threadIdx.y; b < a.rows; b += step)
    {
        packRowPart(a, b, threadIdx.x, blockDim.x);
    }
}

//! The untiled unpack's operands: spectrum rows of specLen values (float2, or float if realIn).
template <class T>
struct UnpackArgs
{
    float const* spectrum;
    T* y;
    int64_t rows; //!< outer * inner
    int64_t outLen;
    int64_t inner;
    int64_t specLen;
    int64_t n;
    float scale;
    bool realIn; //!< C2R: one output component
};

//! A complex value's two components in one store (a 16-bit pair is 4 bytes, aligned as y is).
template <class T>
struct alignas(2 * sizeof(T)) ComplexOut
{
    T re;
    T im;
};

//! y[o, k, i, :] = spectrum[b, k] * scale (b = o * inner + i) for k = firstK, firstK + kStep, ...;
//! bins past a half spectrum (R2C, full output) are the conjugates of their mirrors n - k. As in
//! packRowPart, the row's place in y (64-bit divisions) is found once a row: per element, three
//! divisions made the 16-bit unpack instruction-bound.
template <class T>
__host__ __device__ inline void unpackRowPart(UnpackArgs<T> const& a, int64_t b, int64_t firstK, int64_t kStep)
{
    int64_t const o = b / a.inner;
    int64_t const i = b - o * a.inner;
    int64_t const first = o * a.outLen * a.inner + i; // element (o, 0, i)
    if (a.realIn)
    {
        float const* row = a.spectrum + b * a.specLen;
        for (int64_t k = firstK; k < a.outLen; k += kStep)
        {
            a.y[first + k * a.inner] = fromFloat<T>(row[k] * a.scale);
        }
        return;
    }
    float2 const* row = reinterpret_cast<float2 const*>(a.spectrum) + b * a.specLen;
    auto* out = reinterpret_cast<ComplexOut<T>*>(a.y) + first;
    for (int64_t k = firstK; k < a.outLen; k += kStep)
    {
        bool const mirrored = k >= a.specLen;
        float2 const c = row[mirrored ? a.n - k : k];
        out[k * a.inner] = ComplexOut<T>{fromFloat<T>(c.x * a.scale), fromFloat<T>((mirrored ? -c.y : c.y) * a.scale)};
    }
}

//! Rows b = blockIdx.x * blockDim.y + threadIdx.y (grid-stride), blockDim.x threads along a row.
template <class T>
__global__ void unpackRowsKernel(UnpackArgs<T> const a)
{
    int64_t const step = int64_t{gridDim.x} * blockDim.y;
    for (int64_t b = int64_t{blockIdx.x} * blockDim.y + threadIdx.y; b < a.rows; b += step)
    {
        unpackRowPart(a, b, threadIdx.x, blockDim.x);
    }
}

constexpr int kTile = 32;
constexpr int kTileRows = 8;              //!< block (32, 8): each thread moves 4 elements of a tile
constexpr int64_t kTransposeMinInner = 16; //!< below, a row of the tile wastes most of its lanes

//! Grid of the tiled kernels: (columns, rows) of tiles, and the outer index in z (looped past 65535).
inline dim3 tileGrid(int64_t columns, int64_t rows, int64_t outer) noexcept
{
    auto const tiles = [](int64_t n) { return static_cast<unsigned>((n + kTile - 1) / kTile); };
    return dim3(tiles(columns), tiles(rows), static_cast<unsigned>(outer < 65535 ? outer : 65535));
}

//! Whether the tiled kernels take this layout (the grid's y extent is at most 65535 tiles).
inline bool tiledTakes(int64_t inner, int64_t frameStep) noexcept
{
    return frameStep == 0 && inner >= kTransposeMinInner && (inner + kTile - 1) / kTile <= 65535;
}

//! packed[(o * inner + i) * len + k] = x[o, k, i, :] for k < inLen, else 0 (see packRowPart: a C2R
//! half spectrum drops the imaginary part of its real-valued bins, realBin >= 0).
template <class T>
__global__ void __launch_bounds__(kTile* kTileRows) packTiledKernel(T const* x, float* packed, int64_t outer,
    int64_t len, int64_t inLen, int64_t inner, int32_t inComps, bool realOut, int64_t realBin)
{
    __shared__ float2 tile[kTile][kTile + 1]; // [k][i], padded: the transposed read is conflict-free
    int64_t const k0 = int64_t{blockIdx.x} * kTile;
    int64_t const i0 = int64_t{blockIdx.y} * kTile;
    for (int64_t o = blockIdx.z; o < outer; o += gridDim.z)
    {
        for (int r = threadIdx.y; r < kTile; r += kTileRows) // read along i: coalesced
        {
            int64_t const k = k0 + r;
            int64_t const i = i0 + threadIdx.x;
            float2 v = make_float2(0.F, 0.F);
            if (k < inLen && k < len && i < inner)
            {
                T const* src = x + ((o * inLen + k) * inner + i) * inComps;
                bool const realValued = realBin >= 0 && (k == 0 || k == realBin);
                v.x = toFloat(src[0]);
                v.y = inComps == 2 && !realValued ? toFloat(src[1]) : 0.F;
            }
            tile[r][threadIdx.x] = v;
        }
        __syncthreads();
        for (int r = threadIdx.y; r < kTile; r += kTileRows) // write along k: coalesced
        {
            int64_t const i = i0 + r;
            int64_t const k = k0 + threadIdx.x;
            if (i < inner && k < len)
            {
                float2 const v = tile[threadIdx.x][r];
                int64_t const at = (o * inner + i) * len + k;
                if (realOut)
                {
                    packed[at] = v.x;
                }
                else
                {
                    reinterpret_cast<float2*>(packed)[at] = v;
                }
            }
        }
        __syncthreads(); // the tile is reused for the next outer index
    }
}

//! y[o, k, i, :] = spectrum[o * inner + i, k] * scale (see unpackKernel: bins past a half
//! spectrum are the conjugates of their mirrors n - k; realIn: a C2R output, one component).
template <class T>
__global__ void __launch_bounds__(kTile* kTileRows) unpackTiledKernel(float const* spectrum, T* y, int64_t outer,
    int64_t outLen, int64_t inner, int64_t specLen, int64_t n, float scale, bool realIn)
{
    __shared__ float2 tile[kTile][kTile + 1]; // [i][k]
    int64_t const k0 = int64_t{blockIdx.x} * kTile;
    int64_t const i0 = int64_t{blockIdx.y} * kTile;
    for (int64_t o = blockIdx.z; o < outer; o += gridDim.z)
    {
        for (int r = threadIdx.y; r < kTile; r += kTileRows) // read along k: one spectrum row
        {
            int64_t const i = i0 + r;
            int64_t const k = k0 + threadIdx.x;
            float2 v = make_float2(0.F, 0.F);
            if (i < inner && k < outLen)
            {
                int64_t const row = (o * inner + i) * specLen;
                if (realIn)
                {
                    v.x = spectrum[row + k] * scale;
                }
                else
                {
                    bool const mirrored = k >= specLen;
                    float2 const c = reinterpret_cast<float2 const*>(spectrum)[row + (mirrored ? n - k : k)];
                    v = make_float2(c.x * scale, (mirrored ? -c.y : c.y) * scale);
                }
            }
            tile[r][threadIdx.x] = v;
        }
        __syncthreads();
        for (int r = threadIdx.y; r < kTile; r += kTileRows) // write along i: coalesced
        {
            int64_t const k = k0 + r;
            int64_t const i = i0 + threadIdx.x;
            if (k < outLen && i < inner)
            {
                float2 const v = tile[threadIdx.x][r];
                int64_t const at = (o * outLen + k) * inner + i;
                if (realIn)
                {
                    y[at] = fromFloat<T>(v.x);
                }
                else
                {
                    y[2 * at] = fromFloat<T>(v.x);
                    y[2 * at + 1] = fromFloat<T>(v.y);
                }
            }
        }
        __syncthreads();
    }
}

//! The pack of `plan` into cuFFT's rows: tiled where the axis is strided enough, else by rows.
template <class T>
void launchPack(DftPlan const& plan, T const* x, T const* window, float* packed, cudaStream_t stream)
{
    bool const realOut = plan.kind == DftKind::kR2C;
    int64_t const realBin = plan.kind != DftKind::kC2R ? -1 : (plan.n % 2 == 0 ? plan.n / 2 : 0); // 0: DC only
    if (tiledTakes(plan.inner, plan.frameStep))
    {
        packTiledKernel<T><<<tileGrid(plan.packedLen(), plan.inner, plan.outer), dim3(kTile, kTileRows), 0, stream>>>(
            x, packed, plan.outer, plan.packedLen(), plan.inLen, plan.inner, plan.inComps, realOut, realBin);
        return;
    }
    FrameSource const frame{plan.frames, plan.frameStep, plan.signalLen};
    PackArgs<T> const args{x, window, packed, plan.batch(), plan.packedLen(), plan.inLen, plan.inner, plan.inComps,
        realOut, realBin, frame};
    dim3 const block = packRowsBlock(args.len);
    packRowsKernel<T><<<gridFor(args.rows, static_cast<int>(block.y)), block, 0, stream>>>(args);
}

//! The unpack of `plan` from cuFFT's rows into y, times `scale`.
template <class T>
void launchUnpack(DftPlan const& plan, float const* spectrum, T* y, float scale, cudaStream_t stream)
{
    bool const realIn = plan.kind == DftKind::kC2R;
    if (tiledTakes(plan.inner, plan.frameStep))
    {
        unpackTiledKernel<T><<<tileGrid(plan.outLen, plan.inner, plan.outer), dim3(kTile, kTileRows), 0, stream>>>(
            spectrum, y, plan.outer, plan.outLen, plan.inner, plan.spectrumLen(), plan.n, scale, realIn);
        return;
    }
    UnpackArgs<T> const args{
        spectrum, y, plan.batch(), plan.outLen, plan.inner, plan.spectrumLen(), plan.n, scale, realIn};
    dim3 const block = packRowsBlock(args.outLen);
    unpackRowsKernel<T><<<gridFor(args.rows, static_cast<int>(block.y)), block, 0, stream>>>(args);
}

} // namespace dft
} // namespace trtplug
