// RoI Align kernel: one thread per output element (grid-stride over K * C * bins), as
// torchvision's and mmcv's kernels; the bin's samples are bilinear reads of one channel plane.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "roi_align/roi_align.h"

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

//! The four corner weights and offsets of a sample at (y, x); all weights 0 beyond [-1, H] x [-1, W].
struct Corners
{
    int64_t offset[4];
    float weight[4];
};

__device__ Corners corners(float y, float x, Plane const& plane)
{
    Corners c{};
    if (y < -1.F || y > static_cast<float>(plane.height) || x < -1.F || x > static_cast<float>(plane.width))
    {
        return c; // weights 0, offsets 0: reads pixel 0 times 0
    }
    y = fmaxf(y, 0.F);
    x = fmaxf(x, 0.F);
    int64_t y0 = static_cast<int64_t>(y);
    int64_t x0 = static_cast<int64_t>(x);
    int64_t y1 = y0 + 1;
    int64_t x1 = x0 + 1;
    if (y0 >= plane.height - 1)
    {
        y0 = y1 = plane.height - 1;
        y = static_cast<float>(y0);
    }
    if (x0 >= plane.width - 1)
    {
        x0 = x1 = plane.width - 1;
        x = static_cast<float>(x0);
    }
    float const ly = y - static_cast<float>(y0);
    float const lx = x - static_cast<float>(x0);
    float const hy = 1.F - ly;
    float const hx = 1.F - lx;
    c.offset[0] = y0 * plane.width + x0;
    c.offset[1] = y0 * plane.width + x1;
    c.offset[2] = y1 * plane.width + x0;
    c.offset[3] = y1 * plane.width + x1;
    c.weight[0] = hy * hx;
    c.weight[1] = hy * lx;
    c.weight[2] = ly * hx;
    c.weight[3] = ly * lx;
    return c;
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

template <typename T>
__device__ Region regionOf(T const* box, RoiAlignConfig const& cfg)
{
    float const x1 = toFloat(box[0]) * cfg.spatialScale - cfg.offset;
    float const y1 = toFloat(box[1]) * cfg.spatialScale - cfg.offset;
    float const x2 = toFloat(box[2]) * cfg.spatialScale - cfg.offset;
    float const y2 = toFloat(box[3]) * cfg.spatialScale - cfg.offset;
    float height = y2 - y1;
    float width = x2 - x1;
    if (cfg.offset == 0.F)
    {
        height = fmaxf(height, 1.F);
        width = fmaxf(width, 1.F);
    }
    Region r;
    r.startH = y1;
    r.startW = x1;
    r.binH = height / static_cast<float>(cfg.outputHeight);
    r.binW = width / static_cast<float>(cfg.outputWidth);
    r.gridH = cfg.samplingRatio > 0 ? cfg.samplingRatio : max(0, static_cast<int32_t>(ceilf(r.binH)));
    r.gridW = cfg.samplingRatio > 0 ? cfg.samplingRatio : max(0, static_cast<int32_t>(ceilf(r.binW)));
    return r;
}

//! The bin's pooled value from the plane `xc` (float32).
template <typename T>
__device__ float poolBin(T const* xc, Plane const& plane, Region const& r, int64_t ph, int64_t pw, RoiPool pool)
{
    float const stepH = r.binH / static_cast<float>(r.gridH);
    float const stepW = r.binW / static_cast<float>(r.gridW);
    float const baseH = r.startH + static_cast<float>(ph) * r.binH;
    float const baseW = r.startW + static_cast<float>(pw) * r.binW;
    float acc = pool == RoiPool::kAVG ? 0.F : -INFINITY;
    for (int32_t iy = 0; iy < r.gridH; ++iy)
    {
        float const y = baseH + (static_cast<float>(iy) + 0.5F) * stepH;
        for (int32_t ix = 0; ix < r.gridW; ++ix)
        {
            Corners const c = corners(y, baseW + (static_cast<float>(ix) + 0.5F) * stepW, plane);
            float terms[4];
#pragma unroll
            for (int i = 0; i < 4; ++i)
            {
                terms[i] = c.weight[i] * toFloat(xc[c.offset[i]]);
            }
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

template <typename T>
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
            value = poolBin(xc, plane, r, bin / cfg.outputWidth, bin % cfg.outputWidth, cfg.pool);
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
        roiAlignKernel<T><<<gridFor(total), kBlockThreads, 0, stream>>>(cfg, xShape.d[0], xShape.d[1], plane, nbRois,
            static_cast<T const*>(x), static_cast<T const*>(rois), batch, static_cast<T*>(y));
        return cudaGetLastError();
    });
}

} // namespace trtplug
