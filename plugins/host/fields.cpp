// Plugin fields between Python and the IPluginV3 ABI, typed the way the ONNX parser types
// node attributes.
#include "common/plugin_fields.h"
#include "host/host.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace py = pybind11;
using nvinfer1::PluginFieldType;

namespace trtplug::host
{
namespace
{

size_t fieldBytes(PluginFieldType type, int32_t length)
{
    size_t const n = length > 0 ? static_cast<size_t>(length) : 0;
    switch (type)
    {
    case PluginFieldType::kFLOAT16:
    case PluginFieldType::kBF16:
    case PluginFieldType::kINT16: return 2 * n;
    case PluginFieldType::kFLOAT32:
    case PluginFieldType::kINT32: return 4 * n;
    case PluginFieldType::kFLOAT64:
    case PluginFieldType::kINT64: return 8 * n;
    case PluginFieldType::kDIMS: return sizeof(nvinfer1::Dims) * n;
    case PluginFieldType::kINT4:
    case PluginFieldType::kFP4: return (n + 1) / 2;
    default: return n; // kINT8, kCHAR, kFP8, kUNKNOWN: bytes
    }
}

PluginFieldType fieldTypeFromName(std::string const& name)
{
    for (int32_t t = 0; t <= static_cast<int32_t>(PluginFieldType::kFP4); ++t)
    {
        if (name == fieldTypeName(static_cast<PluginFieldType>(t)))
        {
            return static_cast<PluginFieldType>(t);
        }
    }
    throw py::value_error("unknown plugin field type '" + name + "'");
}

template <class T>
void append(std::vector<uint8_t>& bytes, T value)
{
    auto const* p = reinterpret_cast<uint8_t const*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
}

template <class T>
void appendInteger(std::vector<uint8_t>& bytes, py::handle item, std::string const& name)
{
    auto const v = item.cast<long long>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
    {
        throw py::value_error("field '" + name + "': " + std::to_string(v) + " does not fit the field type");
    }
    append<T>(bytes, static_cast<T>(v));
}

//! Elements of `value` (a scalar or a sequence) encoded as `type`.
OwnedField encode(std::string const& name, PluginFieldType type, py::handle value)
{
    OwnedField f{name, type, 0, {}};
    if (type == PluginFieldType::kCHAR || type == PluginFieldType::kUNKNOWN)
    {
        std::string const s = py::isinstance<py::bytes>(value) ? std::string(value.cast<py::bytes>())
                                                                : value.cast<std::string>();
        f.bytes.assign(s.begin(), s.end());
        if (type == PluginFieldType::kCHAR)
        {
            f.bytes.push_back(0); // NUL counted in length, as the ONNX parser passes strings
        }
        f.length = static_cast<int32_t>(f.bytes.size());
        return f;
    }
    py::list items;
    if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value))
    {
        items = py::list(py::reinterpret_borrow<py::object>(value));
    }
    else
    {
        items.append(value);
    }
    for (py::handle item : items)
    {
        switch (type)
        {
        case PluginFieldType::kINT8: appendInteger<int8_t>(f.bytes, item, name); break;
        case PluginFieldType::kINT16: appendInteger<int16_t>(f.bytes, item, name); break;
        case PluginFieldType::kINT32: appendInteger<int32_t>(f.bytes, item, name); break;
        case PluginFieldType::kINT64: appendInteger<int64_t>(f.bytes, item, name); break;
        case PluginFieldType::kFLOAT32: append<float>(f.bytes, item.cast<float>()); break;
        case PluginFieldType::kFLOAT64: append<double>(f.bytes, item.cast<double>()); break;
        default: throw py::value_error("field '" + name + "': the host cannot encode " + fieldTypeName(type));
        }
    }
    f.length = static_cast<int32_t>(items.size());
    return f;
}

//! The ONNX parser's attribute typing: INT(S) -> int32, FLOAT(S) -> float32, STRING -> char.
PluginFieldType inferType(std::string const& name, py::handle value)
{
    if (py::isinstance<py::str>(value))
    {
        return PluginFieldType::kCHAR;
    }
    if (py::isinstance<py::int_>(value)) // bool included, as ONNX stores bools as INT
    {
        return PluginFieldType::kINT32;
    }
    if (py::isinstance<py::float_>(value))
    {
        return PluginFieldType::kFLOAT32;
    }
    if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value))
    {
        for (py::handle item : value)
        {
            if (!py::isinstance<py::int_>(item))
            {
                return PluginFieldType::kFLOAT32;
            }
        }
        return PluginFieldType::kINT32; // also for [], like an empty INTS attribute
    }
    throw py::type_error("field '" + name + "': unsupported value type " + std::string(py::str(py::type::handle_of(value))));
}

} // namespace

void OwnedFields::add(OwnedField field)
{
    mFields.push_back(std::move(field));
}

nvinfer1::PluginFieldCollection const* OwnedFields::collection()
{
    mViews.clear();
    for (auto const& f : mFields)
    {
        mViews.emplace_back(f.name.c_str(), f.bytes.empty() ? nullptr : f.bytes.data(), f.type, f.length);
    }
    mCollection.nbFields = static_cast<int32_t>(mViews.size());
    mCollection.fields = mViews.data();
    return &mCollection;
}

void OwnedFields::poison()
{
    for (auto& f : mFields)
    {
        std::fill(f.name.begin(), f.name.end(), '?');
        std::fill(f.bytes.begin(), f.bytes.end(), uint8_t{0xA5});
    }
}

OwnedFields fieldsFromPython(py::object const& fields, nvinfer1::PluginFieldCollection const* advertised)
{
    OwnedFields out;
    if (fields.is_none())
    {
        return out;
    }
    py::iterable pairs = py::isinstance<py::dict>(fields) ? fields.attr("items")() : fields;
    for (py::handle pair : pairs)
    {
        auto const item = pair.cast<py::tuple>();
        if (item.size() != 2)
        {
            throw py::value_error("fields: expected a dict or (name, value) pairs");
        }
        auto const name = item[0].cast<std::string>();
        py::handle const value = item[1];
        bool const forced = py::isinstance<py::tuple>(value) && py::len(value) == 2
            && py::isinstance<py::str>(value.cast<py::tuple>()[0]);
        if (forced)
        {
            auto const typed = value.cast<py::tuple>();
            out.add(encode(name, fieldTypeFromName(typed[0].cast<std::string>()), typed[1]));
            continue;
        }
        py::object v = py::reinterpret_borrow<py::object>(value);
        if (py::hasattr(v, "tolist") && !py::isinstance<py::str>(v)) // NumPy arrays and scalars
        {
            v = v.attr("tolist")();
        }
        PluginFieldType type = inferType(name, v);
        bool const emptyList = (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) && py::len(v) == 0;
        for (int32_t i = 0; emptyList && advertised != nullptr && i < advertised->nbFields; ++i)
        {
            // [] carries no element type (an ONNX attribute would): take the advertised one.
            if (advertised->fields[i].name != nullptr && name == advertised->fields[i].name)
            {
                type = advertised->fields[i].type;
            }
        }
        out.add(encode(name, type, v));
    }
    return out;
}

OwnedFields copyFields(nvinfer1::PluginFieldCollection const& fc)
{
    if (fc.nbFields < 0 || (fc.nbFields > 0 && fc.fields == nullptr))
    {
        throw std::runtime_error("malformed PluginFieldCollection from getFieldsToSerialize");
    }
    OwnedFields out;
    for (int32_t i = 0; i < fc.nbFields; ++i)
    {
        nvinfer1::PluginField const& f = fc.fields[i];
        if (f.name == nullptr || f.length < 0 || (f.length > 0 && f.data == nullptr))
        {
            throw std::runtime_error("getFieldsToSerialize: field #" + std::to_string(i) + " is malformed");
        }
        auto const* p = static_cast<uint8_t const*>(f.data);
        out.add({f.name, f.type, f.length, std::vector<uint8_t>(p, p + fieldBytes(f.type, f.length))});
    }
    return out;
}

py::object fieldToPython(nvinfer1::PluginField const& f, bool scalar)
{
    auto const* p = static_cast<char const*>(f.data);
    if (f.type == PluginFieldType::kCHAR)
    {
        return py::str(std::string(p, f.length > 0 ? strnlen(p, static_cast<size_t>(f.length)) : 0));
    }
    auto element = [&](int32_t i) -> py::object {
        switch (f.type)
        {
        case PluginFieldType::kINT8: return py::int_(reinterpret_cast<int8_t const*>(p)[i]);
        case PluginFieldType::kINT16: return py::int_(reinterpret_cast<int16_t const*>(p)[i]);
        case PluginFieldType::kINT32: return py::int_(reinterpret_cast<int32_t const*>(p)[i]);
        case PluginFieldType::kINT64: return py::int_(reinterpret_cast<int64_t const*>(p)[i]);
        case PluginFieldType::kFLOAT32: return py::float_(reinterpret_cast<float const*>(p)[i]);
        case PluginFieldType::kFLOAT64: return py::float_(reinterpret_cast<double const*>(p)[i]);
        default: return py::none();
        }
    };
    bool const decoded = f.type == PluginFieldType::kINT8 || f.type == PluginFieldType::kINT16
        || f.type == PluginFieldType::kINT32 || f.type == PluginFieldType::kINT64
        || f.type == PluginFieldType::kFLOAT32 || f.type == PluginFieldType::kFLOAT64;
    if (!decoded)
    {
        return py::bytes(p, fieldBytes(f.type, f.length)); // raw bytes for types not decoded here
    }
    if (scalar && f.length == 1)
    {
        return element(0);
    }
    py::list items;
    for (int32_t i = 0; i < f.length; ++i)
    {
        items.append(element(i));
    }
    return items;
}

} // namespace trtplug::host
