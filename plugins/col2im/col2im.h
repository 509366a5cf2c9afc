// Col2Im launcher (plain function, no TensorRT types).
#pragma once

#include "common/dtype.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trtplug
{

constexpr int32_t kCol2ImMaxSpatial = 6; // TensorRT's 8 dims minus N and C

//! Geometry of one Col2Im: output [batch, channels, image...], input [batch, channels * kernel,
//! columns]; per spatial axis dilation, pads and stride. Block lengths are not here: the kernel
//! reads them from device memory (a plugin receives them only there).
struct Col2ImGeometry
{
    int32_t spatial{0};
    int64_t batch{0};
    int64_t channels{0};
    int64_t kernel{0};  //!< prod(block_shape): input channels per output channel
    int64_t columns{0}; //!< L, block positions
    int64_t image[kCol2ImMaxSpatial]{};
    int64_t dilations[kCol2ImMaxSpatial]{};
    int64_t padBegin[kCol2ImMaxSpatial]{};
    int64_t padEnd[kCol2ImMaxSpatial]{};
    int64_t strides[kCol2ImMaxSpatial]{};
};

//! Fills the per-axis fields of `g` from ONNX attribute lists (empty: the defaults 1s / 0s / 1s);
//! returns the problem (naming the attribute) or "".
template <class I>
std::string setCol2ImAttributes(Col2ImGeometry& g, std::vector<I> const& dilations, std::vector<I> const& pads,
    std::vector<I> const& strides)
{
    auto const n = static_cast<size_t>(g.spatial);
    if (g.spatial < 1 || g.spatial > kCol2ImMaxSpatial)
    {
        return "Col2Im needs 1.." + std::to_string(kCol2ImMaxSpatial) + " spatial axes, got " + std::to_string(n);
    }
    if (!dilations.empty() && dilations.size() != n)
    {
        return "dilations has " + std::to_string(dilations.size()) + " values for " + std::to_string(n) + " axes";
    }
    if (!pads.empty() && pads.size() != 2 * n)
    {
        return "pads has " + std::to_string(pads.size()) + " values for " + std::to_string(n) + " axes (2 per axis)";
    }
    if (!strides.empty() && strides.size() != n)
    {
        return "strides has " + std::to_string(strides.size()) + " values for " + std::to_string(n) + " axes";
    }
    for (size_t d = 0; d < n; ++d)
    {
        g.dilations[d] = dilations.empty() ? 1 : dilations[d];
        g.strides[d] = strides.empty() ? 1 : strides[d];
        g.padBegin[d] = pads.empty() ? 0 : pads[d];
        g.padEnd[d] = pads.empty() ? 0 : pads[n + d];
        if (g.dilations[d] < 1 || g.strides[d] < 1 || g.padBegin[d] < 0 || g.padEnd[d] < 0)
        {
            return "dilations and strides must be >= 1, pads >= 0";
        }
    }
    return "";
}

//! The launch geometry of concrete shapes: x (N, C * K, L), y (N, C, image...), the block_shape
//! device array of `blockLen` values, and the attributes; why they do not fit ("" when they do).
template <class I>
std::string setCol2ImGeometry(Col2ImGeometry& g, int32_t xRank, int64_t const* x, int32_t yRank, int64_t const* y,
    int64_t blockLen, std::vector<I> const& dilations, std::vector<I> const& pads, std::vector<I> const& strides)
{
    if (xRank != 3 || yRank < 3)
    {
        return "input must be (N, C * prod(block_shape), L) and output (N, C, image...)";
    }
    g.spatial = yRank - 2;
    std::string const problem = setCol2ImAttributes(g, dilations, pads, strides);
    if (!problem.empty())
    {
        return problem;
    }
    if (blockLen != g.spatial)
    {
        return "block_shape must hold one value per spatial axis of the output";
    }
    if (y[0] != x[0] || (y[1] > 0 ? x[1] <= 0 || x[1] % y[1] != 0 : x[1] != 0))
    {
        return "output must have input's N, and input dim 1 must be a positive multiple of its channels";
    }
    g.batch = x[0];
    g.channels = y[1];
    g.kernel = y[1] > 0 ? x[1] / y[1] : 0;
    g.columns = x[2];
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        g.image[d] = y[2 + d];
    }
    return "";
}

//! Block positions along axis d for block length `block` (0 when the dilated block does not fit).
inline int64_t col2ImBlockCount(Col2ImGeometry const& g, int32_t d, int64_t block) noexcept
{
    int64_t const span = g.image[d] + g.padBegin[d] + g.padEnd[d] - g.dilations[d] * (block - 1) - 1;
    return span < 0 ? 0 : span / g.strides[d] + 1;
}

//! output[n, c, y...] = sum of input[n, c * kernel + k, b] over the kernel offsets k and block
//! positions b with b * stride + k * dilation - padBegin == y on every axis: a gather, a thread per
//! 16-byte chunk of an output row where the last axis has stride 1, else per output element;
//! float32 accumulation in a fixed order (col2im_chunks.cuh), deterministic. `blockShape`:
//! `g.spatial` int64 block lengths in device memory. Lengths that disagree with g.kernel or
//! g.columns (no host check is possible without a sync) make every output element NaN instead of
//! reading out of bounds. Float32, float16 or bfloat16.
cudaError_t launchCol2Im(DType dtype, void const* input, int64_t const* blockShape, void* output,
    Col2ImGeometry const& g, cudaStream_t stream) noexcept;

} // namespace trtplug
