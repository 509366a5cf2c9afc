#include "common/op_binding.h"
#include "common/skip_norm_binding.h"
#include "skip_simplified_layer_norm/op_glue.h"
#include "skip_simplified_layer_norm/skip_simplified_layer_norm.h"

//! RMSNorm(input + skip + bias) * gamma into [output, mean (0)?, inv_std_var?, sum?].
TRTPLUG_OP_BINDING(skip_simplified_layer_norm)
{
    trtplug::SkipNormTensors const t{&call.in(0), &call.in(1), &call.in(2), nullptr, call.inOrNull(3),
        {call.outOrNull(0), call.outOrNull(1), call.outOrNull(2), call.outOrNull(3)}};
    trtplug::launchSkipNorm(
        "skip_simplified_layer_norm", trtplug::launchSkipSimplifiedLayerNorm, t, call.params.epsilon, call.stream);
}
