// Op params from a Python dict, through the same visit() that names the plugin fields, so a
// binding takes `attrs` as the pyplugins do and never spells an attribute name again.
#pragma once

#include "common/binding.h"
#include "common/tensor_shape.h"

#include <pybind11/stl.h>

#include <set>
#include <string>

namespace trtplug
{

//! Params{} with every key of `attrs` assigned to the member of that name; raises ValueError
//! for unknown keys and for values of the wrong type. Absent keys keep their defaults.
template <class Params>
Params paramsFromDict(pybind11::dict const& attrs, char const* op)
{
    Params params{};
    std::set<std::string> known;
    auto assign = [&](char const* name, auto& member) {
        known.insert(name);
        if (!attrs.contains(name))
        {
            return;
        }
        try
        {
            member = attrs[name].template cast<std::decay_t<decltype(member)>>();
        }
        catch (pybind11::cast_error const&)
        {
            throw pybind11::value_error(std::string(op) + ": attribute '" + name + "' has the wrong type");
        }
    };
    params.visit(assign);
    for (auto const& item : attrs)
    {
        auto const key = item.first.cast<std::string>();
        require(known.count(key) == 1, std::string(op) + ": unknown attribute '" + key + "'");
    }
    return params;
}

//! TensorShape of a device array; raises ValueError beyond TensorShape::kMaxRank.
inline TensorShape shapeOf(DeviceArray const& a, char const* name)
{
    TensorShape s;
    require(TensorShape::from(a.shape, s), std::string(name) + ": rank above 8 is not supported");
    return s;
}

//! Device pointer of an optional input, null when absent or empty (the plugins' "absent").
inline void const* optionalPtr(DeviceArray const* a)
{
    return a != nullptr && a->size > 0 ? reinterpret_cast<void const*>(a->ptr) : nullptr;
}

//! Shape of an optional input; absent or empty: the empty shape (rank 0, as the adapters pass it).
inline TensorShape optionalShape(DeviceArray const* a, char const* name)
{
    return a != nullptr && a->size > 0 ? shapeOf(*a, name) : TensorShape{};
}

//! The numpy-style broadcast of a's and b's shapes; raises ValueError when they do not broadcast.
inline std::vector<int64_t> broadcastOf(DeviceArray const& a, DeviceArray const& b)
{
    TensorShape out;
    require(broadcastShapes(shapeOf(a, "a"), shapeOf(b, "b"), out), "input shapes do not broadcast");
    return std::vector<int64_t>(out.d, out.d + out.rank);
}

} // namespace trtplug
