// Each deformable-convolution member's input order and attributes, mapped onto the launcher's
// (overloads on the generated Params): the one mapping the adapter and the bindings share.
#pragma once

#include "deform_conv/deform_conv.h"
#include "deform_conv/op_glue.h"

namespace trtplug
{

//! Input indices of a member (-1: the member has no such input).
struct DeformConvSlots
{
    int32_t x, w, offset, mask, bias;
};

inline DeformConvSlots memberSlots(glue_onnx_deform_conv::Params const&) noexcept
{
    return {0, 1, 2, 4, 3};
}

inline DeformConvSlots memberSlots(glue_mmcv_modulated_deform_conv::Params const&) noexcept
{
    return {0, 3, 1, 2, 4};
}

inline DeformConvSlots memberSlots(glue_mmcv_deform_conv::Params const&) noexcept
{
    return {0, 2, 1, -1, -1};
}

//! values[0..1] into out, or `fallback` for both when values is empty (ONNX's defaults).
inline void pairOf(std::vector<int32_t> const& values, int32_t fallback, int32_t (&out)[2]) noexcept
{
    out[0] = values.size() > 0 ? values[0] : fallback;
    out[1] = values.size() > 1 ? values[1] : out[0];
}

inline DeformConvAttrs memberAttrs(glue_onnx_deform_conv::Params const& p)
{
    DeformConvAttrs a;
    pairOf(p.strides, 1, a.strides);
    pairOf(p.pads, 0, a.pads); // ONNX pads: [top, left, bottom, right]
    pairOf(p.dilations, 1, a.dilations);
    a.group = p.group;
    a.offsetGroup = p.offset_group;
    if (!p.kernel_shape.empty())
    {
        pairOf(p.kernel_shape, 0, a.kernelShape);
        a.kernelShape[1] = p.kernel_shape.size() == 2 ? p.kernel_shape[1] : -1; // one value: refused (2-D)
    }
    return a;
}

template <class MmcvParams>
DeformConvAttrs mmcvAttrs(MmcvParams const& p)
{
    DeformConvAttrs a;
    pairOf(p.stride, 1, a.strides);
    pairOf(p.padding, 0, a.pads);
    pairOf(p.dilation, 1, a.dilations);
    a.group = p.groups;
    a.offsetGroup = p.deform_groups;
    return a;
}

inline DeformConvAttrs memberAttrs(glue_mmcv_modulated_deform_conv::Params const& p)
{
    return mmcvAttrs(p);
}

inline DeformConvAttrs memberAttrs(glue_mmcv_deform_conv::Params const& p)
{
    return mmcvAttrs(p);
}

} // namespace trtplug
