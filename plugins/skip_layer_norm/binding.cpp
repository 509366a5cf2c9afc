#include "common/op_binding.h"
#include "common/skip_norm_binding.h"
#include "skip_layer_norm/op_glue.h"
#include "skip_layer_norm/skip_layer_norm.h"

//! LayerNorm(input + skip + bias) * gamma + beta into [output, mean?, inv_std_var?, sum?].
TRTPLUG_OP_BINDING(skip_layer_norm)
{
    trtplug::SkipNormTensors const t{&call.in(0), &call.in(1), &call.in(2), call.inOrNull(3), call.inOrNull(4),
        {call.outOrNull(0), call.outOrNull(1), call.outOrNull(2), call.outOrNull(3)}};
    trtplug::launchSkipNorm("skip_layer_norm", trtplug::launchSkipLayerNorm, t, call.params.epsilon, call.stream);
}
