// A tensor's dims for launchers that need more than an element count, free of TensorRT and
// pybind11 types: the IPluginV3 adapter builds it from nvinfer1::Dims, a binding from the
// array's shape, and the launcher signature stays the same for both.
#pragma once

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace trtplug
{

//! An axis attribute's value when the node leaves it out (spec flag `default_means_absent`): the
//! ops that then work on the flattened tensor (Compress, Unique) take it in place of an axis.
constexpr int32_t kAxisAbsent = INT32_MIN;

struct TensorShape
{
    static constexpr int32_t kMaxRank = 8; //!< nvinfer1::Dims::MAX_DIMS

    int32_t rank{0};
    int64_t d[kMaxRank]{};

    //! From nvinfer1::Dims or anything with nbDims and d[] (rank clamped to kMaxRank).
    template <class Dims>
    static TensorShape of(Dims const& dims) noexcept
    {
        TensorShape s;
        s.rank = dims.nbDims < kMaxRank ? dims.nbDims : kMaxRank;
        for (int32_t i = 0; i < s.rank; ++i)
        {
            s.d[i] = dims.d[i];
        }
        return s;
    }

    //! From a shape vector; false when its rank exceeds kMaxRank.
    static bool from(std::vector<int64_t> const& dims, TensorShape& out) noexcept
    {
        if (dims.size() > static_cast<size_t>(kMaxRank))
        {
            return false;
        }
        out.rank = static_cast<int32_t>(dims.size());
        for (int32_t i = 0; i < out.rank; ++i)
        {
            out.d[i] = dims[i];
        }
        return true;
    }

    //! Whether `other` has the same rank and dims (e.g. a profile's min and max: a static shape).
    bool same(TensorShape const& other) const noexcept
    {
        bool equal = rank == other.rank;
        for (int32_t i = 0; equal && i < rank; ++i)
        {
            equal = d[i] == other.d[i];
        }
        return equal;
    }

    //! Whether the dims are exactly `dims` (rank included).
    bool is(std::initializer_list<int64_t> dims) const noexcept
    {
        if (rank != static_cast<int32_t>(dims.size()))
        {
            return false;
        }
        int32_t i = 0;
        for (int64_t v : dims)
        {
            if (d[i++] != v)
            {
                return false;
            }
        }
        return true;
    }

    //! "[d0, d1, ...]", for error messages.
    std::string text() const
    {
        std::string t = "[";
        for (int32_t i = 0; i < rank; ++i)
        {
            t += (i ? ", " : "") + std::to_string(d[i]);
        }
        return t + "]";
    }

    //! "" when this shape is `dims`, else "<name> has shape [..], expected [..]".
    std::string expect(std::string const& name, std::initializer_list<int64_t> dims) const
    {
        if (is(dims))
        {
            return "";
        }
        TensorShape want;
        for (int64_t v : dims)
        {
            want.d[want.rank++] = v;
        }
        return name + " has shape " + text() + ", expected " + want.text();
    }

    int64_t volume() const noexcept
    {
        int64_t n = 1;
        for (int32_t i = 0; i < rank; ++i)
        {
            n *= d[i];
        }
        return n;
    }
};

//! The numpy-style broadcast of a and b into out; false when they do not broadcast.
inline bool broadcastShapes(TensorShape const& a, TensorShape const& b, TensorShape& out) noexcept
{
    out.rank = a.rank > b.rank ? a.rank : b.rank;
    for (int32_t i = 0; i < out.rank; ++i)
    {
        int64_t const da = i < out.rank - a.rank ? 1 : a.d[i - (out.rank - a.rank)];
        int64_t const db = i < out.rank - b.rank ? 1 : b.d[i - (out.rank - b.rank)];
        if (da != db && da != 1 && db != 1)
        {
            return false;
        }
        out.d[i] = da == 1 ? db : da;
    }
    return true;
}

} // namespace trtplug
