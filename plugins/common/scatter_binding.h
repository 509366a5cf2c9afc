// The argument checks the ScatterND and ScatterElements pybind11 bindings share: the four arrays,
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

inline ScatterOperands scatterOperands(pybind11::handle data, pybind11::handle indices, pybind11::handle updates,
    pybind11::handle out, std::string const& reduction, std::string const& op)
{
    ScatterOperands a{toDeviceArray(data, "data", false), toDeviceArray(indices, "indices", false),
        toDeviceArray(updates, "updates", false), toDeviceArray(out, "out", true)};
    require(scatterReductionFromName(reduction.c_str(), a.reduction), op + ": unknown reduction '" + reduction + "'");
    require(a.indices.dtype == DType::kINT64, op + ": indices must be int64");
    require(a.updates.dtype == a.data.dtype && a.out.dtype == a.data.dtype && a.out.shape == a.data.shape,
        op + ": updates and out must have data's dtype, out data's shape");
    return a;
}

} // namespace trtplug
