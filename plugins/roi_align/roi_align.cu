// RoI Align kernel: one thread per output element (grid-stride over K * C * bins), as
// torchvision's and mmcv's kernels; the bin's samples are bilinear reads of one channel plane.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "roi_align/roi_align.h"

#include <climits>
#include <cmath>

namespace trtplug
{
namespace
{

struct Plane
{
    int64_t height{0};
    int64_t width{0};
};

//! One axis of a bilinear sample: its two neighbours and their weights (l towards hi, h towards
//! lo); weights 0 beyond [-1, size], which zeroes the whole sample. The y axis is computed once
//! per row of samples, not per sample, and in-plane indices are 32-bit where the plane allows:
//! 64-bit index math per sample made the adaptive (many-sample) bins compute-bound.
template <typename Index>
struct AxisTap
{
    Index lo{0};
    Index hi{0};
    float l{0.F};
    float h{0.F};
};

template <typename Index>
__device__ AxisTap<Index> axisTap(float v, Index size)
{
    AxisTap<Index> t;
    if (v < -1.F || v > static_cast<float>(size))
    {
        return t; // weights 0, indices 0: reads pixel 0 times 0
    }
    v = fmaxf(v, 0.F);
    t.lo = static_cast<Index>(v);
    t.hi = t.lo + 1;
    if (t.lo >= size - 1)
    {
        t.lo = t.hi = size - 1;
        v = static_cast<float>(t.lo);
    }
    t.l = v - static_cast<float>(t.lo);
    t.h = 1.F - t.l;
    return t;
}

struct Region
{
    float startH;
    float startW;
    float binH;
    float binW;
    int32_t gridH;
    int32_t gridW;
};

// Coordinates are rounded after every operation (no fused multiply-add), in the prototype's order
// (trtplug/protolib/roi_align.py): on a 362-pixel map a contracted product moved sample positions
// by an ulp, 3e-5 pixels, enough to move 52 of 6.4M outputs by up to 1.5e-4 and fail the float32
// agreement with the prototype (H200, run 18).
__device__ __forceinline__ float scaled(float v, RoiAlignConfig const& cfg)
{
    return __fsub_rn(__fmul_rn(v, cfg.spatialScale), cfg.offset);
}

//! start + i * step, rounded after each operation.
__device__ __forceinline__ float along(float start, float i, float step)
{
    return __fadd_rn(start, __fmul_rn(i, step));
}

template <typename T>
__device__ Region regionOf(T const* box, RoiAlignConfig const& cfg)
{
    float const x1 = scaled(toFloat(box[0]), cfg);
    float const y1 = scaled(toFloat(box[1]), cfg);
    float const x2 = scaled(toFloat(box[2]), cfg);
    float const y2 = scaled(toFloat(box[3]), cfg);
    float height = __fsub_rn(y2, y1);
    float width = __fsub_rn(x2, x1);
    if (cfg.offset == 0.F)
    {
        height = fmaxf(height, 1.F);
        width = fmaxf(width, 1.F);
    }
    Region r;
    r.startH = y1;
    r.startW = x1;
    r.binH = __fdiv_rn(height, static_cast<float>(cfg.outputHeight));
    r.binW = __fdiv_rn(width, static_cast<float>(cfg.outputWidth));
    r.gridH = cfg.samplingRatio > 0 ? cfg.samplingRatio : max(0, static_cast<int32_t>(ceilf(r.binH)));
    r.gridW = cfg.samplingRatio > 0 ? cfg.samplingRatio : max(0, static_cast<int32_t>(ceilf(r.binW)));
    return r;
}

//! The bin's pooled value from the plane `xc` (float32).
template <typename T, typename Index>
__device__ float poolBin(T const* xc, Index height, Index width, Region const& r, int64_t ph, int64_t pw, RoiPool pool)
{
    float const stepH = __fdiv_rn(r.binH, static_cast<float>(r.gridH));
    float const stepW = __fdiv_rn(r.binW, static_cast<float>(r.gridW));
    float const baseH = along(r.startH, static_cast<float>(ph), r.binH);
    float const baseW = along(r.startW, static_cast<float>(pw), r.binW);
    float acc = pool == RoiPool::kAVG ? 0.F : -INFINITY;
    for (int32_t iy = 0; iy < r.gridH; ++iy)
    {
        AxisTap<Index> const ty = axisTap(along(baseH, static_cast<float>(iy) + 0.5F, stepH), height);
        Index const row0 = ty.lo * width;
        Index const row1 = ty.hi * width;
        for (int32_t ix = 0; ix < r.gridW; ++ix)
        {
            AxisTap<Index> const tx = axisTap(along(baseW, static_cast<float>(ix) + 0.5F, stepW), width);
            float const terms[4] = {ty.h * tx.h * toFloat(xc[row0 + tx.lo]), ty.h * tx.l * toFloat(xc[row0 + tx.hi]),
                ty.l * tx.h * toFloat(xc[row1 + tx.lo]), ty.l * tx.l * toFloat(xc[row1 + tx.hi])};
            if (pool == RoiPool::kMAX_CORNER)
            {
                acc = fmaxf(acc, fmaxf(fmaxf(terms[0], terms[1]), fmaxf(terms[2], terms[3])));
            }
            else
            {
                float const sample = terms[0] + terms[1] + terms[2] + terms[3];
                acc = pool == RoiPool::kAVG ? acc + sample : fmaxf(acc, sample);
            }
        }
    }
    return pool == RoiPool::kAVG ? acc / static_cast<float>(r.gridH * r.gridW) : acc;
}

//! Index: the in-plane index type, int32_t when height * width fits it.
template <typename T, typename Index>
__global__ void roiAlignKernel(RoiAlignConfig cfg, int64_t n, int64_t channels, Plane plane, int64_t nbRois,
    T const* x, T const* rois, int64_t const* batch, T* y)
{
    int64_t const bins = int64_t{cfg.outputHeight} * cfg.outputWidth;
    int64_t const total = nbRois * channels * bins;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const bin = i % bins;
        int64_t const c = (i / bins) % channels;
        int64_t const k = i / (bins * channels);
        T const* roi = rois + k * cfg.roiColumns;
        int64_t const b = batch != nullptr ? batch[k] : static_cast<int64_t>(toFloat(roi[0]));
        Region const r = regionOf(batch != nullptr ? roi : roi + 1, cfg);
        float value = 0.F; // no samples (a degenerate half-pixel region) or no such image
        if (b >= 0 && b < n && r.gridH > 0 && r.gridW > 0)
        {
            T const* xc = x + (b * channels + c) * plane.height * plane.width;
            value = poolBin<T, Index>(xc, static_cast<Index>(plane.height), static_cast<Index>(plane.width), r,
                bin / cfg.outputWidth, bin % cfg.outputWidth, cfg.pool);
        }
        y[i] = fromFloat<T>(value);
    }
}

RoiPool poolOf(std::string const& mode, bool onnx) noexcept
{
    return mode == "max" ? (onnx ? RoiPool::kMAX_CORNER : RoiPool::kMAX) : RoiPool::kAVG;
}

template <class Params>
RoiAlignConfig commonConfig(Params const& p) noexcept
{
    RoiAlignConfig cfg;
    cfg.outputHeight = p.output_height;
    cfg.outputWidth = p.output_width;
    cfg.spatialScale = p.spatial_scale;
    cfg.samplingRatio = p.sampling_ratio;
    return cfg;
}

} // namespace

RoiAlignConfig roiAlignConfig(glue_onnx_roi_align::Params const& p) noexcept
{
    RoiAlignConfig cfg = commonConfig(p);
    cfg.offset = p.coordinate_transformation_mode == "half_pixel" ? 0.5F : 0.F;
    cfg.pool = poolOf(p.mode, true);
    return cfg;
}

RoiAlignConfig roiAlignConfig(glue_onnx_roi_align_opset10::Params const& p) noexcept
{
    RoiAlignConfig cfg = commonConfig(p); // opset 10: output_half_pixel, no offset
    cfg.pool = poolOf(p.mode, true);
    return cfg;
}

RoiAlignConfig roiAlignConfig(glue_mmcv_roi_align::Params const& p) noexcept
{
    RoiAlignConfig cfg = commonConfig(p);
    cfg.offset = p.aligned != 0 ? 0.5F : 0.F;
    cfg.pool = poolOf(p.mode, false);
    cfg.roiColumns = 5;
    return cfg;
}

std::string checkRoiAlignShapes(RoiAlignConfig const& cfg, TensorShape const& x, TensorShape const& rois,
    TensorShape const* batch, TensorShape const* y)
{
    if (x.rank != 4)
    {
        return "X must be (N, C, H, W), got rank " + std::to_string(x.rank);
    }
    if (rois.rank != 2 || rois.d[1] != cfg.roiColumns)
    {
        return "rois must be (K, " + std::to_string(cfg.roiColumns) + ")";
    }
    if (batch != nullptr && (batch->rank != 1 || batch->d[0] != rois.d[0]))
    {
        return "batch_indices must be (K,) with rois' K = " + std::to_string(rois.d[0]);
    }
    if (y != nullptr
        && (y->rank != 4 || y->d[0] != rois.d[0] || y->d[1] != x.d[1] || y->d[2] != cfg.outputHeight
            || y->d[3] != cfg.outputWidth))
    {
        return "Y must be (K, C, output_height, output_width)";
    }
    return "";
}

cudaError_t launchRoiAlign(DType dtype, RoiAlignConfig const& cfg, TensorShape const& xShape, int64_t nbRois,
    void const* x, void const* rois, int64_t const* batch, void* y, cudaStream_t stream) noexcept
{
    int64_t const total = nbRois * xShape.d[1] * cfg.outputHeight * cfg.outputWidth;
    if (total == 0)
    {
        return cudaSuccess;
    }
    Plane const plane{xShape.d[2], xShape.d[3]};
    if (plane.height * plane.width == 0) // nothing to sample: zeros
    {
        return cudaMemsetAsync(y, 0, static_cast<size_t>(total) * dtypeSize(dtype), stream);
    }
    return forFloatOrBf16Type(dtype, [&](auto tag) {
        using T = decltype(tag);
        auto const run = [&](auto kernel) {
            kernel<<<gridFor(total), kBlockThreads, 0, stream>>>(cfg, xShape.d[0], xShape.d[1], plane, nbRois,
                static_cast<T const*>(x), static_cast<T const*>(rois), batch, static_cast<T*>(y));
            return cudaGetLastError();
        };
        // (H - 1) * W + W - 1 is the largest in-plane index: 32 bits unless the plane has 2^31 pixels
        return plane.height * plane.width <= INT32_MAX ? run(roiAlignKernel<T, int32_t>) : run(roiAlignKernel<T, int64_t>);
    });
}

} // namespace trtplug
