#include "common/op_binding.h"
#include "common/scatter_binding.h"
#include "scatter_nd/op_glue.h"
#include "scatter_nd/scatter_nd.h"

//! ScatterND of updates into a copy of data at indices (output may be data: in place).
TRTPLUG_OP_BINDING(scatter_nd)
{
    using namespace trtplug;
    auto const [d, i, u, o, r] = scatterOperands(call, call.params.reduction);
    call.check(!i.shape.empty(), "indices must have rank >= 1");
    int64_t const k = i.shape.back();
    call.check(k >= 1 && k <= static_cast<int64_t>(d.shape.size()) && d.shape.size() <= kScatterNDMaxRank,
        "indices.shape[-1] must be in 1..rank(data) (rank <= 8)");
    std::vector<int64_t> expected(i.shape.begin(), i.shape.end() - 1);
    expected.insert(expected.end(), d.shape.begin() + k, d.shape.end());
    call.check(u.shape == expected, "updates must have shape indices.shape[:-1] + data.shape[k:]");
    checkCuda(launchScatterND(d.dtype, reinterpret_cast<void const*>(d.ptr), reinterpret_cast<int64_t const*>(i.ptr),
                  reinterpret_cast<void const*>(u.ptr), reinterpret_cast<void*>(o.ptr),
                  static_cast<int32_t>(d.shape.size()), d.shape.data(), i.size / k, static_cast<int32_t>(k), r,
                  call.stream),
        "scatter_nd");
}
