// ONNX MaxUnpool geometry from the op's generated Params, shared by the plugin adapter and the
// binding: defaults for empty strides/pads and the unpooled length of each spatial axis (the
// lengths between attributes: the spec's length_of rule).
#pragma once

#include "max_unpool/max_unpool.h"
#include "max_unpool/op_glue.h"

#include <cstdint>
#include <string>

namespace trtplug
{
namespace maxunpool
{

using Params = glue_max_unpool::Params;

inline int32_t spatial(Params const& p)
{
    return static_cast<int32_t>(p.kernel_shape.size());
}
inline int32_t stride(Params const& p, int32_t d)
{
    return p.strides.empty() ? 1 : p.strides[d];
}
inline int32_t padSum(Params const& p, int32_t d)
{
    return p.pads.empty() ? 0 : p.pads[d] + p.pads[spatial(p) + d];
}
//! Unpooled length of spatial axis d for an input length `in`.
inline int64_t inferred(Params const& p, int32_t d, int64_t in)
{
    return (in - 1) * stride(p, d) - padSum(p, d) + p.kernel_shape[d];
}

} // namespace maxunpool
} // namespace trtplug
