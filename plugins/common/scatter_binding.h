// The argument checks the ScatterND and ScatterElements bindings share: the four arrays,
// the reduction name, int64 indices, and updates/out typed (and out shaped) like data.
#pragma once

#include "common/binding.h"
#include "common/scatter_reduce.h"

#include <string>

namespace trtplug
{

struct ScatterOperands
{
    DeviceArray data, indices, updates, out;
    ScatterReduction reduction{};
};

//! Inputs data, indices, updates and output `out` of a binding call (OpCall), checked; `reduction`
//! is the op's validated attribute (the spec's `choices`).
template <class Call>
ScatterOperands scatterOperands(Call const& call, std::string const& reduction)
{
    std::string const& op = call.op;
    ScatterOperands a{call.in(0), call.in(1), call.in(2), call.out(0)};
    require(scatterReductionFromName(reduction.c_str(), a.reduction), op + ": unknown reduction '" + reduction + "'");
    require(a.indices.dtype == DType::kINT64, op + ": indices must be int64");
    require(a.updates.dtype == a.data.dtype && a.out.dtype == a.data.dtype && a.out.shape == a.data.shape,
        op + ": updates and out must have data's dtype, out data's shape");
    return a;
}

} // namespace trtplug
