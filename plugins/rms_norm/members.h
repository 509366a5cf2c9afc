// What differs between the RMS-norm family's members, from their generated Params (overloads on
// the glue types): the one mapping the plugin adapter (plugin.cpp) and the bindings share.
#pragma once

#include "rms_norm/op_glue.h"
#include "rms_norm/rms_norm.h"

namespace trtplug
{

//! Outputs the node uses: Y, then SimplifiedLayerNormalization's optional inv_std_var.
inline int32_t usedOutputs(glue_simplified_layer_norm::Params const& p) noexcept
{
    return p.num_outputs;
}

inline int32_t usedOutputs(glue_rms_normalization::Params const&) noexcept
{
    return 1;
}

} // namespace trtplug
