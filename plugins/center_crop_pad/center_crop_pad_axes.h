// CenterCropPad's `axes` rules, shared by the plugin adapter and the binding (host code only).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace trtplug
{

//! `axes` made non-negative for `rank` into `resolved` (every axis when empty); why they are
//! invalid (out of range, repeated), "" when they are not.
inline std::string centerCropPadAxes(std::vector<int32_t> const& axes, int32_t rank, std::vector<int32_t>& resolved)
{
    resolved.clear();
    for (int32_t a : axes)
    {
        if (a < -rank || a >= rank)
        {
            return "axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank);
        }
        int32_t const axis = a < 0 ? a + rank : a;
        if (std::find(resolved.begin(), resolved.end(), axis) != resolved.end())
        {
            return "axis " + std::to_string(a) + " repeated in axes";
        }
        resolved.push_back(axis);
    }
    for (int32_t d = 0; axes.empty() && d < rank; ++d)
    {
        resolved.push_back(d);
    }
    return {};
}

//! Why output dims `out` cannot come from input dims `in` (same rank) with only `axes` (resolved)
//! changing length; "" when they can.
inline std::string centerCropPadDimsProblem(
    int32_t rank, int64_t const* in, int64_t const* out, std::vector<int32_t> const& axes)
{
    for (int32_t d = 0; d < rank; ++d)
    {
        if (in[d] != out[d] && std::find(axes.begin(), axes.end(), d) == axes.end())
        {
            return "axis " + std::to_string(d) + " is not in axes but changes length";
        }
    }
    return {};
}

} // namespace trtplug
