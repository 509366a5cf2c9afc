// Value-rule checks used by the generated op glue (cmake/generate_op_glue.py): the C++ twin of
// trtplug/attr_rules.py, with the same wording, so a plugin created from bad fields reports what
// the rewrite would have reported.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace trtplug
{
namespace attr_check
{

inline std::string show(int32_t v)
{
    return std::to_string(v);
}

//! printf's %g (what an ostream prints by default). No iostreams here: this code runs inside
//! Python processes whose other extensions bring their own C++ runtime, and a locale-backed
//! ostream crashed there (the GPU machine's torch environment); snprintf needs no locale facets.
inline std::string shortest(double x)
{
    char text[32];
    std::snprintf(text, sizeof(text), "%g", x);
    return text;
}

//! Like Python's repr of a float: an integral value keeps its ".0".
inline std::string show(float v)
{
    std::string text = shortest(v);
    bool const plain = text.find_first_of(".ein") == std::string::npos;
    return plain ? text + ".0" : text;
}

//! Like attr_rules._num: an integral bound prints without a fraction.
inline std::string showBound(double x)
{
    if (std::isfinite(x) && x == std::floor(x))
    {
        return std::to_string(static_cast<long long>(x));
    }
    return shortest(x);
}

inline std::string show(std::string const& v)
{
    return "'" + v + "'";
}

template <class T>
std::string listed(std::initializer_list<T> values)
{
    std::string out;
    for (T const& v : values)
    {
        out += (out.empty() ? "" : ", ") + show(v);
    }
    return out;
}

//! One element against choices / min / max; `hasMin`/`hasMax` say whether a bound is set.
template <class T, class C>
std::string elementProblem(std::string const& where, T const& v, std::initializer_list<C> choices, bool hasMin,
    double lo, bool hasMax, double hi)
{
    if (choices.size() != 0)
    {
        bool found = false;
        for (C const& c : choices)
        {
            found = found || (v == c);
        }
        if (!found)
        {
            return where + " is not one of " + listed(choices);
        }
    }
    if constexpr (!std::is_same_v<T, std::string>)
    {
        if (hasMin && static_cast<double>(v) < lo)
        {
            return where + " is below the minimum " + showBound(lo);
        }
        if (hasMax && static_cast<double>(v) > hi)
        {
            return where + " is above the maximum " + showBound(hi);
        }
    }
    return {};
}

template <class T, class C>
std::string scalarProblem(T const& v, std::initializer_list<C> choices, bool hasMin, double lo, bool hasMax, double hi)
{
    return elementProblem(show(v), v, choices, hasMin, lo, hasMax, hi);
}

//! A list attribute: its length bounds (-1: none), then every element.
template <class T, class C>
std::string listProblem(std::vector<T> const& v, int64_t minLength, int64_t maxLength,
    std::initializer_list<C> choices, bool hasMin, double lo, bool hasMax, double hi)
{
    auto const n = static_cast<int64_t>(v.size());
    if (minLength >= 0 && n < minLength)
    {
        return std::to_string(n) + " elements, at least " + std::to_string(minLength) + " needed";
    }
    if (maxLength >= 0 && n > maxLength)
    {
        return std::to_string(n) + " elements, at most " + std::to_string(maxLength) + " allowed";
    }
    for (size_t i = 0; i < v.size(); ++i)
    {
        std::string where = "element " + std::to_string(i) + " (" + show(v[i]) + ")";
        std::string problem = elementProblem(where, v[i], choices, hasMin, lo, hasMax, hi);
        if (!problem.empty())
        {
            return problem;
        }
    }
    return {};
}

//! A list with `factor` elements per element of another list attribute `other`, or none.
inline std::string lengthOfProblem(size_t n, size_t otherLength, int64_t factor, char const* other)
{
    auto const needed = static_cast<size_t>(factor) * otherLength;
    if (n == 0 || n == needed)
    {
        return {};
    }
    return std::to_string(n) + " elements, " + std::to_string(factor) + " per '" + other + "' element ("
        + std::to_string(needed) + ") or none needed";
}

} // namespace attr_check
} // namespace trtplug
