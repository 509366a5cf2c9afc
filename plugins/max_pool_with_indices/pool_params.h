// ONNX MaxPool geometry from the op's generated Params, shared by the plugin adapter and the
// binding: per-axis stride/dilation/pad defaults for empty lists, and auto_pad/ceil_mode resolved
// into output lengths and leading pads (the lengths between attributes: the spec's length_of rule).
#pragma once

#include "max_pool_with_indices/max_pool_with_indices.h"
#include "max_pool_with_indices/op_glue.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace trtplug
{
namespace maxpool
{

using Params = glue_max_pool_with_indices::Params;

inline int32_t spatial(Params const& p)
{
    return static_cast<int32_t>(p.kernel_shape.size());
}
inline int32_t stride(Params const& p, int32_t d)
{
    return p.strides.empty() ? 1 : p.strides[d];
}
inline int32_t dilation(Params const& p, int32_t d)
{
    return p.dilations.empty() ? 1 : p.dilations[d];
}
inline int32_t pad(Params const& p, int32_t i)
{
    return p.pads.empty() ? 0 : p.pads[i];
}
inline int64_t extent(Params const& p, int32_t d)
{
    return int64_t{p.kernel_shape[d] - 1} * dilation(p, d) + 1;
}
inline bool same(Params const& p)
{
    return p.auto_pad == "SAME_UPPER" || p.auto_pad == "SAME_LOWER";
}

//! Output length and leading pad of spatial axis d for input length `in` (ONNX MaxPool rules);
//! out = -1 when the window is larger than the padded input.
inline void resolve(Params const& p, int32_t d, int64_t in, int64_t& out, int32_t& begin)
{
    int64_t const s = stride(p, d);
    if (same(p))
    {
        out = (in + s - 1) / s;
        int64_t const total = std::max<int64_t>((out - 1) * s + extent(p, d) - in, 0);
        begin = static_cast<int32_t>(p.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2);
        return;
    }
    bool const valid = p.auto_pad == "VALID";
    begin = valid ? 0 : pad(p, d);
    int64_t const span = valid ? in - extent(p, d) : in + pad(p, d) + pad(p, spatial(p) + d) - extent(p, d);
    if (span < 0)
    {
        out = -1; // integer division would truncate to 0
        return;
    }
    bool const ceil = p.ceil_mode != 0 && !valid;
    out = ceil ? (span + s - 1) / s + 1 : span / s + 1;
    out -= ceil && (out - 1) * s >= in + begin ? 1 : 0;
}

//! The launcher's geometry for input spatial lengths `in` (spatial(p) of them).
inline PoolGeometry geometry(Params const& p, int64_t const* in)
{
    PoolGeometry g;
    g.spatial = spatial(p);
    g.columnMajor = p.storage_order == 1;
    for (int32_t d = 0; d < g.spatial; ++d)
    {
        g.in[d] = in[d];
        resolve(p, d, in[d], g.out[d], g.begin[d]);
        g.kernel[d] = p.kernel_shape[d];
        g.stride[d] = stride(p, d);
        g.dilation[d] = dilation(p, d);
    }
    return g;
}

} // namespace maxpool
} // namespace trtplug
