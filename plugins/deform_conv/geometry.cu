// Host-side shape checks of the deformable convolutions (shared by the binding and the adapter).
#include "deform_conv/deform_conv.h"

#include <vector>

namespace trtplug
{
namespace
{

std::string dimsText(DeformConvDims t)
{
    std::string s = "[";
    for (int32_t i = 0; i < t.rank; ++i)
    {
        s += (i ? ", " : "") + std::to_string(t.d[i]);
    }
    return s + "]";
}

//! "" when t has exactly `expected` (a rank-`expected.size()` shape), else the mismatch.
std::string expectDims(char const* name, DeformConvDims t, std::vector<int64_t> const& expected)
{
    bool same = t.rank == static_cast<int32_t>(expected.size());
    for (int32_t i = 0; same && i < t.rank; ++i)
    {
        same = t.d[i] == expected[i];
    }
    if (same)
    {
        return "";
    }
    std::string want = "[";
    for (size_t i = 0; i < expected.size(); ++i)
    {
        want += (i ? ", " : "") + std::to_string(expected[i]);
    }
    return std::string(name) + " must be " + want + "], got " + dimsText(t);
}

} // namespace

std::string setDeformConvGeometry(DeformConvGeometry& g, DeformConvDims x, DeformConvDims w, DeformConvDims offset,
    DeformConvDims mask, DeformConvDims bias, DeformConvDims y, DeformConvAttrs const& attrs)
{
    if (x.rank != 4 || w.rank != 4 || offset.rank != 4)
    {
        return "input, weight and offset must be 4-D (2-D deformable convolution), got " + dimsText(x) + ", "
            + dimsText(w) + ", " + dimsText(offset);
    }
    g = DeformConvGeometry{x.d[0], x.d[1], x.d[2], x.d[3], w.d[0], w.d[2], w.d[3], offset.d[2], offset.d[3], attrs};
    // An absent optional input before a present one arrives as an empty [0] tensor (the rewrite's placeholder).
    auto placeholder = [](DeformConvDims t) { return t.rank == 1 && t.d[0] == 0; };
    mask = placeholder(mask) ? DeformConvDims{} : mask;
    bias = placeholder(bias) ? DeformConvDims{} : bias;
    g.hasMask = mask.rank >= 0;
    g.hasBias = bias.rank >= 0;
    if (attrs.group < 1 || attrs.offsetGroup < 1 || g.channels % attrs.group != 0
        || g.outChannels % attrs.group != 0 || g.channels % attrs.offsetGroup != 0)
    {
        return "channels " + std::to_string(g.channels) + " and output channels " + std::to_string(g.outChannels)
            + " must divide by group " + std::to_string(attrs.group) + ", channels by offset group "
            + std::to_string(attrs.offsetGroup);
    }
    if (attrs.kernelShape[0] != 0 && (attrs.kernelShape[0] != g.kernelH || attrs.kernelShape[1] != g.kernelW))
    {
        return "kernel_shape must be the weight's spatial dims " + dimsText(w);
    }
    int64_t const outH = (g.height + 2 * int64_t{attrs.pads[0]} - attrs.dilations[0] * (g.kernelH - 1) - 1);
    int64_t const points = g.kernelH * g.kernelW;
    std::string problem = expectDims("weight", w, {g.outChannels, g.channels / attrs.group, g.kernelH, g.kernelW});
    if (problem.empty())
    {
        problem = expectDims("offset", offset, {g.batch, 2 * attrs.offsetGroup * points, g.outH, g.outW});
    }
    if (problem.empty() && mask.rank >= 0)
    {
        problem = expectDims("mask", mask, {g.batch, attrs.offsetGroup * points, g.outH, g.outW});
    }
    if (problem.empty() && bias.rank >= 0)
    {
        problem = expectDims("bias", bias, {g.outChannels});
    }
    if (problem.empty() && y.rank >= 0)
    {
        problem = expectDims("output", y, {g.batch, g.outChannels, g.outH, g.outW});
    }
    if (problem.empty() && g.outH > 0 && outH < 0)
    {
        problem = "the dilated kernel does not fit the padded input";
    }
    return problem;
}

} // namespace trtplug
