// The RMS-norm family's bindings: one per member over one body (X, scale -> Y, inv_std_var?).
#include "common/op_binding.h"
#include "rms_norm/members.h"

#include <algorithm>
#include <string>
#include <vector>

namespace
{

//! scale's shape is X.shape[axis:] after any leading 1s (the plugin adapter's rule).
bool scaleFits(trtplug::DeviceArray const& x, trtplug::DeviceArray const& scale, int64_t first)
{
    size_t const normalized = x.shape.size() - static_cast<size_t>(first);
    if (scale.shape.size() < normalized)
    {
        return false;
    }
    size_t const lead = scale.shape.size() - normalized;
    for (size_t i = 0; i < scale.shape.size(); ++i)
    {
        int64_t const want = i < lead ? 1 : x.shape[first + (i - lead)];
        if (scale.shape[i] != want)
        {
            return false;
        }
    }
    return true;
}

template <class Params>
void runRmsNormMember(trtplug::OpCall<Params> const& call)
{
    using namespace trtplug;
    DeviceArray const& x = call.in(0);
    DeviceArray const& scale = call.in(1);
    DeviceArray const& y = call.out(0);
    DeviceArray const* invStdVar = usedOutputs(call.params) > 1 ? call.outOrNull(1) : nullptr;
    RmsNormArgs a;
    a.dtype = x.dtype;
    call.check(flattenAtAxis(x.shape.data(), static_cast<int32_t>(x.shape.size()), call.params.axis, a.rows, a.cols),
        "axis " + std::to_string(call.params.axis) + " is out of range for X of rank "
            + std::to_string(x.shape.size()));
    int64_t const first = call.params.axis < 0 ? call.params.axis + static_cast<int64_t>(x.shape.size())
                                               : call.params.axis;
    call.check(scale.dtype == x.dtype && scaleFits(x, scale, first),
        "scale must have X's dtype and X.shape[axis:] (after any leading 1s)");
    call.check(y.dtype == x.dtype && y.shape == x.shape, "Y must have X's dtype and shape");
    if (invStdVar != nullptr)
    {
        std::vector<int64_t> stats = x.shape;
        std::fill(stats.begin() + first, stats.end(), 1);
        call.check(invStdVar->dtype == DType::kFLOAT32 && invStdVar->shape == stats,
            "inv_std_var must be float32 with X's shape, the axes from axis set to 1");
    }
    a.x = reinterpret_cast<void const*>(x.ptr);
    a.scale = reinterpret_cast<void const*>(scale.ptr);
    a.y = reinterpret_cast<void*>(y.ptr);
    a.invStdVar = invStdVar != nullptr ? reinterpret_cast<float*>(invStdVar->ptr) : nullptr;
    a.epsilon = call.params.epsilon;
    char const* problem = rmsNormArgsProblem(a);
    call.check(problem == nullptr, problem != nullptr ? problem : "");
    checkCuda(launchRmsNorm(a, call.stream), call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(simplified_layer_norm)
{
    runRmsNormMember(call);
}

TRTPLUG_OP_BINDING(rms_normalization)
{
    runRmsNormMember(call);
}
