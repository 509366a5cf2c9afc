#include "common/op_binding.h"
#include "common/scatter_binding.h"
#include "scatter_elements/op_glue.h"
#include "scatter_elements/scatter_elements.h"

//! ScatterElements of updates into a copy of data along `axis` (output may be data: in place).
TRTPLUG_OP_BINDING(scatter_elements)
{
    using namespace trtplug;
    auto const [d, i, u, o, r] = scatterOperands(call, call.params.reduction);
    call.check(i.shape == u.shape, "indices must have updates' shape");
    auto const rank = static_cast<int32_t>(d.shape.size());
    call.check(u.shape.size() == d.shape.size() && rank >= 1 && rank <= kScatterMaxRank,
        "updates must have data's rank (1..8)");
    int32_t axis = 0;
    call.check(scatterAxis(call.params.axis, rank, axis), "axis out of range");
    checkCuda(launchScatterElements(d.dtype, reinterpret_cast<void const*>(d.ptr),
                  reinterpret_cast<int64_t const*>(i.ptr), reinterpret_cast<void const*>(u.ptr),
                  reinterpret_cast<void*>(o.ptr), rank, d.shape.data(), u.shape.data(), axis, r, call.stream),
        "scatter_elements");
}
