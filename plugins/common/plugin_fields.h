// Plugin fields from one visitor per op. An op names each attribute once:
//
//     struct Params {
//         float alpha{1.f};
//         std::vector<int32_t> axes;
//         template <class V> void visit(V& v) { v("alpha", alpha); v("axes", axes); }
//     };
//
// and the helpers below derive the creator's field table, parse a PluginFieldCollection
// (rejecting missing, unknown, duplicate, mistyped and wrong-length fields) and produce the
// fields getFieldsToSerialize returns. Types follow the ONNX parser's attribute mapping:
// INT -> int32_t, INTS -> vector<int32_t>, FLOAT(S) -> float / vector<float>, STRING -> string.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace trtplug
{

//! Params of an op without attributes.
struct NoParams
{
    template <class V>
    void visit(V&)
    {
    }
};

//! Advertised length in getFieldNames for variable-length fields (vectors and strings);
//! scalars advertise 1.
constexpr int32_t kVariableLength = 0;

inline char const* fieldTypeName(nvinfer1::PluginFieldType t) noexcept
{
    using T = nvinfer1::PluginFieldType;
    switch (t)
    {
    case T::kFLOAT16: return "float16";
    case T::kFLOAT32: return "float32";
    case T::kFLOAT64: return "float64";
    case T::kINT8: return "int8";
    case T::kINT16: return "int16";
    case T::kINT32: return "int32";
    case T::kCHAR: return "char";
    case T::kDIMS: return "dims";
    case T::kUNKNOWN: return "unknown";
    case T::kBF16: return "bfloat16";
    case T::kINT64: return "int64";
    case T::kFP8: return "float8";
    case T::kINT4: return "int4";
    case T::kFP4: return "float4";
    }
    return "invalid";
}

template <class T>
struct FieldTraits; // specialised for the supported member types only

namespace detail
{
template <class E, nvinfer1::PluginFieldType kT>
struct ScalarField
{
    static constexpr nvinfer1::PluginFieldType kType = kT;
    static constexpr int32_t kLength = 1;
    static bool read(nvinfer1::PluginField const& f, E& v)
    {
        if (f.length != 1 || f.data == nullptr)
        {
            return false;
        }
        std::memcpy(&v, f.data, sizeof(E));
        return true;
    }
    static nvinfer1::PluginField write(char const* name, E const& v)
    {
        return {name, &v, kType, 1};
    }
};

template <class E, nvinfer1::PluginFieldType kT>
struct VectorField
{
    static constexpr nvinfer1::PluginFieldType kType = kT;
    static constexpr int32_t kLength = kVariableLength;
    static bool read(nvinfer1::PluginField const& f, std::vector<E>& v)
    {
        if (f.length < 0 || (f.length > 0 && f.data == nullptr))
        {
            return false;
        }
        auto const* p = static_cast<E const*>(f.data);
        v.assign(p, p + f.length);
        return true;
    }
    static nvinfer1::PluginField write(char const* name, std::vector<E> const& v)
    {
        return {name, v.data(), kType, static_cast<int32_t>(v.size())};
    }
};
} // namespace detail

template <>
struct FieldTraits<float> : detail::ScalarField<float, nvinfer1::PluginFieldType::kFLOAT32>
{
};
template <>
struct FieldTraits<int32_t> : detail::ScalarField<int32_t, nvinfer1::PluginFieldType::kINT32>
{
};
template <>
struct FieldTraits<std::vector<float>> : detail::VectorField<float, nvinfer1::PluginFieldType::kFLOAT32>
{
};
template <>
struct FieldTraits<std::vector<int32_t>> : detail::VectorField<int32_t, nvinfer1::PluginFieldType::kINT32>
{
};

//! kCHAR: reads up to the first NUL or `length` bytes (parsers count the NUL or not);
//! writes NUL-terminated with the NUL counted, as the ONNX parser does.
template <>
struct FieldTraits<std::string>
{
    static constexpr nvinfer1::PluginFieldType kType = nvinfer1::PluginFieldType::kCHAR;
    static constexpr int32_t kLength = kVariableLength;
    static bool read(nvinfer1::PluginField const& f, std::string& v)
    {
        if (f.length < 0 || (f.length > 0 && f.data == nullptr))
        {
            return false;
        }
        auto const* p = static_cast<char const*>(f.data);
        v.assign(p, f.length > 0 ? strnlen(p, static_cast<size_t>(f.length)) : 0);
        return true;
    }
    static nvinfer1::PluginField write(char const* name, std::string const& v)
    {
        return {name, v.c_str(), kType, static_cast<int32_t>(v.size() + 1)};
    }
};

//! Name, type and advertised length of every field of Params (data pointers are null).
template <class Params>
std::vector<nvinfer1::PluginField> fieldTable()
{
    std::vector<nvinfer1::PluginField> table;
    Params defaults{};
    auto describe = [&table](char const* name, auto& member) {
        using Traits = FieldTraits<std::decay_t<decltype(member)>>;
        table.emplace_back(name, nullptr, Traits::kType, Traits::kLength);
    };
    defaults.visit(describe);
    return table;
}

namespace detail
{
//! Index of the field called `name` in fc; -1 when absent, -2 when present twice.
inline int32_t findField(nvinfer1::PluginFieldCollection const& fc, char const* name) noexcept
{
    int32_t found = -1;
    for (int32_t i = 0; i < fc.nbFields; ++i)
    {
        if (fc.fields[i].name != nullptr && std::strcmp(fc.fields[i].name, name) == 0)
        {
            if (found >= 0)
            {
                return -2;
            }
            found = i;
        }
    }
    return found;
}

//! "float32[1]"-style description; `length` kVariableLength reads "[n]" when `variable`.
inline std::string describeField(nvinfer1::PluginFieldType type, int32_t length, bool variable)
{
    std::string const n = variable && length == kVariableLength ? "n" : std::to_string(length);
    return std::string(fieldTypeName(type)) + "[" + n + "]";
}

template <class T>
std::string readField(nvinfer1::PluginField const& f, char const* name, T& member)
{
    using Traits = FieldTraits<T>;
    bool const lengthOk = Traits::kLength == kVariableLength || f.length == Traits::kLength;
    if (f.type != Traits::kType || !lengthOk || !Traits::read(f, member))
    {
        return std::string("field '") + name + "': expected " + describeField(Traits::kType, Traits::kLength, true)
            + ", got " + describeField(f.type, f.length, false);
    }
    return {};
}
} // namespace detail

//! Fills `params` from `fc`; returns an empty string on success, else the reason (it names
//! the offending field). A field may appear once; a missing one keeps Params' default unless
//! Params lists it in kRequiredFields (generated glue) or has no such list (then every field is
//! required). Extra fields are rejected: a misspelt attribute must not fall back to a default.
namespace detail
{
template <class P, class = void>
struct HasRequiredFields : std::false_type
{
};
template <class P>
struct HasRequiredFields<P, std::void_t<decltype(P::kRequiredFields)>> : std::true_type
{
};

//! Whether `name` must be given: listed in Params::kRequiredFields, or Params has no list.
template <class Params>
bool fieldRequired(char const* name) noexcept
{
    if constexpr (HasRequiredFields<Params>::value)
    {
        for (char const* const* r = Params::kRequiredFields; *r != nullptr; ++r)
        {
            if (std::strcmp(*r, name) == 0)
            {
                return true;
            }
        }
        return false;
    }
    else
    {
        return true;
    }
}
} // namespace detail

template <class Params>
std::string parseFields(nvinfer1::PluginFieldCollection const* fc, Params& params)
{
    nvinfer1::PluginFieldCollection const empty{};
    nvinfer1::PluginFieldCollection const& c = fc != nullptr ? *fc : empty;
    if (c.nbFields < 0 || (c.nbFields > 0 && c.fields == nullptr))
    {
        return "malformed PluginFieldCollection";
    }
    std::vector<bool> used(static_cast<size_t>(c.nbFields), false);
    std::string error;
    auto read = [&](char const* name, auto& member) {
        if (!error.empty())
        {
            return;
        }
        int32_t const i = detail::findField(c, name);
        if (i == -1 && !detail::fieldRequired<Params>(name))
        {
            return; // left out: the default stands, as for an ONNX attribute left out
        }
        if (i < 0)
        {
            error = std::string(i == -1 ? "missing" : "duplicate") + " field '" + name + "'";
            return;
        }
        used[static_cast<size_t>(i)] = true;
        error = detail::readField(c.fields[i], name, member);
    };
    params.visit(read);
    for (int32_t i = 0; error.empty() && i < c.nbFields; ++i)
    {
        if (!used[static_cast<size_t>(i)])
        {
            char const* name = c.fields[i].name;
            error = name != nullptr ? "unknown field '" + std::string(name) + "'" : "field without a name";
        }
    }
    return error;
}

//! Fields for getFieldsToSerialize; they point into `params`, which must outlive them.
template <class Params>
void serializeFields(Params& params, std::vector<nvinfer1::PluginField>& out)
{
    out.clear();
    auto write = [&out](char const* name, auto& member) {
        out.push_back(FieldTraits<std::decay_t<decltype(member)>>::write(name, member));
    };
    params.visit(write);
}

} // namespace trtplug
