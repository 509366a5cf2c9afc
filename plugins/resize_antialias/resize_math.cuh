// The antialiased Resize's per-output arithmetic, host- and device-callable so that
// tests/fixtures/resize_antialias/host_check.cu runs it off the GPU: the source coordinate, the
// tap window and weights (resizedValue, per element), and the tap tables (fillTapRow builds a
// pass's table once, tabledValue reads it). Included by resize_antialias.cu only.
#pragma once

#include "common/launch.cuh"
#include "resize_antialias/resize_antialias.h"

#include <climits>
#include <cmath>
#include <cstdint>

namespace trtplug
{

//! One pass: the tensor as [outer, inLen, inner] resized along the middle axis to outLen.
struct AxisPass
{
    int64_t outer, inLen, outLen, inner;
    double scale;
    float support; //!< min(scale, 1): the kernel argument's factor (widens the window when < 1)
    float roiStart, roiEnd;
    int32_t taps;
    ResizeCoord coord;
    float cubicA;
    bool excludeOutside;
    float extrapolation;
};

__host__ __device__ __forceinline__ float tapWeight(bool cubic, float t, float a)
{
    t = fabsf(t);
    if (!cubic)
    {
        return fmaxf(0.F, 1.F - t);
    }
    if (t <= 1.F)
    {
        return ((a + 2.F) * t - (a + 3.F)) * t * t + 1.F;
    }
    return t < 2.F ? ((a * t - 5.F * a) * t + 8.F * a) * t - 4.F * a : 0.F;
}

//! An input element as float: float types widen; uint8 (images) converts exactly.
template <class T>
__host__ __device__ __forceinline__ float resizeLoad(T x)
{
    return toFloat(x);
}

__host__ __device__ __forceinline__ float resizeLoad(uint8_t x)
{
    return static_cast<float>(x);
}

//! An output element in Y's type. Float types round to nearest. uint8 rounds half to even and
//! clamps to 0..255, as onnx.reference does (a saturating cast of np.round): applied once, to the
//! last pass's float32 sum (intermediates stay float32), so a cubic overshoot clamps only here.
template <class T>
struct ResizeStore
{
    __host__ __device__ static T of(float v) { return fromFloat<T>(v); }
};

template <>
struct ResizeStore<uint8_t>
{
    __host__ __device__ static uint8_t of(float v)
    {
        return static_cast<uint8_t>(fminf(fmaxf(rintf(v), 0.F), 255.F));
    }
};

//! Where output index o samples the input, in float64 and in the reference's operation order.
__host__ __device__ __forceinline__ double sourceCoordinate(int64_t o, AxisPass const& a)
{
    double const y = double(o);
    double const width = a.scale * double(a.inLen); // the real-valued output length
    switch (a.coord)
    {
    case ResizeCoord::kHALF_PIXEL: return (y + 0.5) / a.scale - 0.5;
    case ResizeCoord::kHALF_PIXEL_SYMMETRIC:
        return double(a.inLen) / 2.0 * (1.0 - double(a.outLen) / width) + (y + 0.5) / a.scale - 0.5;
    case ResizeCoord::kPYTORCH_HALF_PIXEL: return width == 1.0 ? -0.5 : (y + 0.5) / a.scale - 0.5;
    case ResizeCoord::kALIGN_CORNERS: return width == 1.0 ? 0.0 : y * double(a.inLen - 1) / (width - 1.0);
    case ResizeCoord::kASYMMETRIC: return y / a.scale;
    case ResizeCoord::kTF_CROP_AND_RESIZE:
    {
        double const span = double(a.roiEnd - a.roiStart);
        double const x = width == 1.0 ? span * double(a.inLen - 1) / 2.0 : y * span * double(a.inLen - 1) / (width - 1.0);
        return x + double(a.roiStart * float(a.inLen - 1));
    }
    }
    return 0.0;
}

//! Where output o's window starts and the offset of its first tap from the source coordinate;
//! `extrapolate` for tf_crop_and_resize outputs outside the input.
struct TapWindow
{
    int64_t first;
    float offset;
    bool extrapolate;
};

__host__ __device__ __forceinline__ TapWindow tapWindow(AxisPass const& a, int64_t o)
{
    double const src = sourceCoordinate(o, a);
    if (a.coord == ResizeCoord::kTF_CROP_AND_RESIZE && (src < 0.0 || src > double(a.inLen - 1)))
    {
        return {0, 0.F, true};
    }
    int64_t const first = static_cast<int64_t>(ceil(src)) - a.taps / 2; // ties go to the lower taps
    return {first, static_cast<float>(double(first) - src), false};
}

//! Tap k's unnormalised weight; 0 for a tap outside the input under exclude_outside.
template <bool kCubic>
__host__ __device__ __forceinline__ float windowWeight(AxisPass const& a, TapWindow const& w, int32_t k)
{
    int64_t const i = w.first + k;
    if (a.excludeOutside && (i < 0 || i >= a.inLen))
    {
        return 0.F;
    }
    return tapWeight(kCubic, (w.offset + float(k)) * a.support, a.cubicA);
}

//! Output index o of a pass: the weighted mean over its window of `taps` inputs (edge pixels
//! repeated past the ends, or left out with exclude_outside), float32 accumulation; load(i)
//! reads input i of the line as float. Host-callable, so the algorithm can be checked off-GPU.
template <bool kCubic, class Load>
__host__ __device__ __forceinline__ float resizedValue(AxisPass const& a, int64_t o, Load const& load)
{
    TapWindow const w = tapWindow(a, o);
    if (w.extrapolate)
    {
        return a.extrapolation;
    }
    float acc = 0.F;
    float sum = 0.F;
    for (int32_t k = 0; k < a.taps; ++k)
    {
        int64_t const i = w.first + k;
        if (a.excludeOutside && (i < 0 || i >= a.inLen))
        {
            continue;
        }
        float const weight = windowWeight<kCubic>(a, w, k);
        acc += weight * load(i < 0 ? 0 : (i >= a.inLen ? a.inLen - 1 : i));
        sum += weight;
    }
    return sum != 0.F ? acc / sum : 0.F;
}

//! A pass's tap table, built once per launch so that each output does multiply-adds only (the
//! per-element path recomputes a float64 coordinate, every tap weight and a division):
//! first[o], the window's first input clamped to [-taps, inLen] (the clamped loads are the same),
//! or kExtrapolated; weights[k * outLen + o], tap k's weight over the window's sum, k-major so
//! that the consecutive outputs of a warp in the innermost pass read consecutive words.
struct TapTable
{
    int32_t* first;
    float* weights;
};

constexpr int32_t kExtrapolated = INT32_MIN;

template <bool kCubic>
__host__ __device__ void fillTapRow(AxisPass const& a, TapTable const& t, int64_t o)
{
    TapWindow const w = tapWindow(a, o);
    float sum = 0.F;
    for (int32_t k = 0; k < a.taps && !w.extrapolate; ++k)
    {
        sum += windowWeight<kCubic>(a, w, k); // the per-element path's sum, in its order
    }
    for (int32_t k = 0; k < a.taps; ++k)
    {
        float const weight = w.extrapolate ? 0.F : windowWeight<kCubic>(a, w, k);
        t.weights[k * a.outLen + o] = sum != 0.F ? weight / sum : 0.F;
    }
    int64_t const first = w.first < -a.taps ? -a.taps : (w.first > a.inLen ? a.inLen : w.first);
    t.first[o] = w.extrapolate ? kExtrapolated : static_cast<int32_t>(first);
}

//! Output o from the table: the same window, clamping and weights as resizedValue (whose division
//! by the sum moved into the weights), float32 accumulation. Host-callable like resizedValue.
template <class Load>
__host__ __device__ __forceinline__ float tabledValue(AxisPass const& a, TapTable const& t, int64_t o, Load const& load)
{
    int32_t const first = t.first[o];
    if (first == kExtrapolated)
    {
        return a.extrapolation;
    }
    int32_t const last = static_cast<int32_t>(a.inLen) - 1;
    float const* weight = t.weights + o;
    float acc = 0.F;
    for (int32_t k = 0; k < a.taps; ++k, weight += a.outLen)
    {
        int32_t const i = first + k < 0 ? 0 : (first + k > last ? last : first + k);
        acc += *weight * load(i);
    }
    return acc;
}

} // namespace trtplug
