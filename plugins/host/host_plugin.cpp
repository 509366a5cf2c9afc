// HostPlugin: the build-phase queries (types, shapes, formats) and the object lifecycle
// (clone, serialize + re-create for the runtime phase, attachToContext).
#include "host/host_plugin.h"

#include "common/trt_dtype.h"
#include "host/expr_builder.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <stdexcept>

namespace py = pybind11;
using namespace nvinfer1;

namespace trtplug::host
{
namespace
{

struct Capability
{
    PluginCapabilityType type;
    char const* kind;
    char const* name;
};
constexpr Capability kCapabilities[] = {
    {PluginCapabilityType::kCORE, "PLUGIN_V3ONE_CORE", "core"},
    {PluginCapabilityType::kBUILD, "PLUGIN_V3ONE_BUILD", "build"},
    {PluginCapabilityType::kRUNTIME, "PLUGIN_V3ONE_RUNTIME", "runtime"},
};

constexpr char const* kFormatNames[] = {"linear", "chw2", "hwc8", "chw4", "chw16", "chw32", "dhwc8", "cdhw32", "hwc",
    "dla_linear", "dla_hwc4", "hwc16", "dhwc"};

TensorFormat formatFromName(std::string const& name)
{
    for (size_t i = 0; i < std::size(kFormatNames); ++i)
    {
        if (name == kFormatNames[i])
        {
            return static_cast<TensorFormat>(i);
        }
    }
    throw py::value_error("unknown tensor format '" + name + "'");
}

DataType typeFromName(std::string const& name)
{
    DataType t{};
    if (!trtTypeFromName(name.c_str(), t))
    {
        throw py::value_error("unknown TensorRT data type '" + name + "'");
    }
    return t;
}

//! Python dims (int for a constant, str for a symbol) -> expressions; -1 becomes a fresh symbol.
std::vector<DimsExprs> toExprs(HostExprBuilder& builder, py::sequence shapes, char const* what)
{
    std::vector<DimsExprs> out;
    for (size_t i = 0; i < py::len(shapes); ++i)
    {
        py::sequence shape = shapes[i];
        if (py::len(shape) > static_cast<size_t>(Dims::MAX_DIMS))
        {
            throw py::value_error(std::string(what) + " " + std::to_string(i) + ": rank above 8");
        }
        DimsExprs e{};
        e.nbDims = static_cast<int32_t>(py::len(shape));
        for (int32_t j = 0; j < e.nbDims; ++j)
        {
            py::object d = shape[j];
            if (py::isinstance<py::str>(d))
            {
                e.d[j] = builder.makeSymbol(d.cast<std::string>());
            }
            else
            {
                auto const v = d.cast<int64_t>();
                e.d[j] = v >= 0 ? builder.makeConstant(v)
                                : builder.makeSymbol("_" + std::to_string(i) + "_" + std::to_string(j));
            }
        }
        out.push_back(e);
    }
    return out;
}

} // namespace

IPluginResourceContext* resourceContext()
{
    // Static: a plugin may keep the context until it is destroyed.
    struct NoResources final : IPluginResourceContext
    {
        IGpuAllocator* getGpuAllocator() const noexcept override { return nullptr; }
        IErrorRecorder* getErrorRecorder() const noexcept override { return nullptr; }
    };
    static NoResources context;
    return &context;
}

IPluginCapability* capabilityOf(IPluginV3& plugin, PluginCapabilityType type)
{
    IPluginCapability* cap = plugin.getCapabilityInterface(type);
    if (cap == nullptr)
    {
        return nullptr;
    }
    auto const& expected = kCapabilities[static_cast<int32_t>(type)];
    InterfaceInfo const info = cap->getInterfaceInfo();
    if (info.kind == nullptr || std::strcmp(info.kind, expected.kind) != 0 || info.major < 1)
    {
        throw std::runtime_error(std::string("the ") + expected.name + " capability reports interface '"
            + (info.kind ? info.kind : "(null)") + "', expected '" + expected.kind + "'");
    }
    return cap; // v_2_0 build interfaces derive from v_1_0, so the static casts below hold
}

HostPlugin::HostPlugin(std::shared_ptr<Library> lib, IPluginV3* plugin, TensorRTPhase phase)
    : mLib(std::move(lib))
    , mPlugin(plugin)
    , mPhase(phase)
{
    mCore = static_cast<IPluginV3OneCore*>(capabilityOf(*mPlugin, PluginCapabilityType::kCORE));
    if (mCore == nullptr)
    {
        throw std::runtime_error("plugin returned no core capability (PluginCapabilityType::kCORE)");
    }
}

std::string HostPlugin::phase() const
{
    return mPhase == TensorRTPhase::kBUILD ? "build" : "runtime";
}

std::vector<std::string> HostPlugin::capabilities()
{
    std::vector<std::string> names;
    for (auto const& c : kCapabilities)
    {
        if (capabilityOf(*mPlugin, c.type) != nullptr)
        {
            names.emplace_back(c.name);
        }
    }
    return names;
}

std::string HostPlugin::repr() const
{
    return "<Plugin " + name() + " version=" + version() + " namespace=" + pluginNamespace() + " phase=" + phase()
        + ">";
}

IPluginV3OneBuild* HostPlugin::build(bool required)
{
    auto* b = static_cast<IPluginV3OneBuild*>(capabilityOf(*mPlugin, PluginCapabilityType::kBUILD));
    if (b == nullptr && required)
    {
        throw py::value_error(name() + ": no build capability (created for the runtime phase?)");
    }
    return b;
}

int32_t HostPlugin::aliasedInput(int32_t output)
{
    IPluginV3OneBuild* b = build();
    if (b->getInterfaceInfo().major < 2)
    {
        return -1;
    }
    return static_cast<nvinfer1::IPluginV3OneBuildV2*>(b)->getAliasedInput(output);
}

IPluginV3OneRuntime* HostPlugin::runtime()
{
    auto* r = static_cast<IPluginV3OneRuntime*>(capabilityOf(*mPlugin, PluginCapabilityType::kRUNTIME));
    if (r == nullptr)
    {
        throw std::runtime_error(name() + ": no runtime capability (TensorRT requires it in both phases)");
    }
    return r;
}

IPluginCreatorV3One* HostPlugin::creator() const
{
    // TensorRT finds the creator from the plugin's own name/version/namespace, so they must agree.
    IPluginCreatorV3One* c = mLib->find(name(), version(), pluginNamespace());
    if (c == nullptr)
    {
        throw std::runtime_error("no creator in " + mLib->path + " matches the plugin's name/version/namespace "
            + name() + "/" + version() + "/" + pluginNamespace());
    }
    return c;
}

void HostPlugin::check(int32_t status, char const* method, size_t mark) const
{
    if (status != 0)
    {
        throw std::runtime_error(name() + "::" + method + " returned " + std::to_string(status) + loggedSince(mark));
    }
}

int32_t HostPlugin::nbOutputs()
{
    int32_t const n = build()->getNbOutputs();
    if (n <= 0 || n > 1024)
    {
        throw std::runtime_error(name() + "::getNbOutputs returned " + std::to_string(n));
    }
    return n;
}

std::vector<std::string> HostPlugin::outputTypes(std::vector<std::string> const& inputTypes)
{
    std::vector<DataType> in;
    for (auto const& t : inputTypes)
    {
        in.push_back(typeFromName(t));
    }
    std::vector<DataType> out(static_cast<size_t>(nbOutputs()), static_cast<DataType>(-1));
    size_t const mark = captureLogger().size();
    check(build()->getOutputDataTypes(
              out.data(), static_cast<int32_t>(out.size()), in.data(), static_cast<int32_t>(in.size())),
        "getOutputDataTypes", mark);
    std::vector<std::string> names;
    for (DataType t : out)
    {
        names.emplace_back(trtTypeName(t));
    }
    return names;
}

py::list HostPlugin::outputShapes(py::sequence inputShapes, py::object shapeInputs)
{
    HostExprBuilder builder;
    std::vector<DimsExprs> in = toExprs(builder, inputShapes, "input");
    std::vector<DimsExprs> shapeIn
        = shapeInputs.is_none() ? std::vector<DimsExprs>{} : toExprs(builder, shapeInputs, "shape input");
    DimsExprs unset{};
    unset.nbDims = -1;
    std::vector<DimsExprs> out(static_cast<size_t>(nbOutputs()), unset);
    size_t const mark = captureLogger().size();
    check(build()->getOutputShapes(in.data(), static_cast<int32_t>(in.size()), shapeIn.data(),
              static_cast<int32_t>(shapeIn.size()), out.data(), static_cast<int32_t>(out.size()), builder),
        "getOutputShapes", mark);
    for (auto const& e : builder.errors())
    {
        throw std::runtime_error(name() + "::getOutputShapes: " + e);
    }
    py::list shapes;
    for (size_t i = 0; i < out.size(); ++i)
    {
        if (out[i].nbDims < 0 || out[i].nbDims > Dims::MAX_DIMS)
        {
            throw std::runtime_error(name() + "::getOutputShapes left output " + std::to_string(i) + " with rank "
                + std::to_string(out[i].nbDims));
        }
        py::list dims;
        for (int32_t j = 0; j < out[i].nbDims; ++j)
        {
            HostExpr const* e = builder.find(out[i].d[j]);
            if (e == nullptr)
            {
                throw std::runtime_error(name() + "::getOutputShapes: output " + std::to_string(i) + " dim "
                    + std::to_string(j) + " is not an expression of this builder");
            }
            dims.append(e->constant() ? py::object(py::int_(e->value())) : py::object(py::str(e->text())));
        }
        shapes.append(std::move(dims));
    }
    return shapes;
}

bool HostPlugin::queryFormats(std::vector<DynamicPluginTensorDesc> const& inOut, int32_t nbInputs)
{
    auto const nbOutputs = static_cast<int32_t>(inOut.size()) - nbInputs;
    DynamicPluginTensorDesc poison{};
    poison.desc.type = static_cast<DataType>(0x7f);
    poison.desc.format = static_cast<TensorFormat>(0x7f);
    poison.desc.dims.nbDims = -1;
    std::vector<DynamicPluginTensorDesc> view(inOut.size(), poison);
    for (size_t pos = 0; pos < inOut.size(); ++pos)
    {
        view[pos] = inOut[pos];
        if (!build()->supportsFormatCombination(static_cast<int32_t>(pos), view.data(), nbInputs, nbOutputs))
        {
            return false;
        }
    }
    return true;
}

bool HostPlugin::supportsFormats(std::vector<std::string> const& dtypes, py::object formats, py::object shapes)
{
    auto const n = static_cast<int32_t>(dtypes.size());
    int32_t const nbInputs = n - nbOutputs();
    if (nbInputs < 0)
    {
        throw py::value_error("give one dtype per input and output (" + std::to_string(nbOutputs()) + " outputs)");
    }
    std::vector<DynamicPluginTensorDesc> inOut(dtypes.size());
    for (int32_t i = 0; i < n; ++i)
    {
        PluginTensorDesc& d = inOut[i].desc;
        d.type = typeFromName(dtypes[i]);
        d.format = formats.is_none() ? TensorFormat::kLINEAR : formatFromName(py::list(formats)[i].cast<std::string>());
        d.scale = -1.F;
        d.dims.nbDims = -1;
        if (!shapes.is_none())
        {
            auto const shape = py::list(shapes)[i].cast<std::vector<int64_t>>();
            d.dims.nbDims = static_cast<int32_t>(std::min<size_t>(shape.size(), Dims::MAX_DIMS));
            std::copy_n(shape.begin(), d.dims.nbDims, d.dims.d);
        }
        inOut[i].min = inOut[i].opt = inOut[i].max = d.dims;
    }
    return queryFormats(inOut, nbInputs);
}

py::dict HostPlugin::fieldsToSerialize()
{
    size_t const mark = captureLogger().size();
    PluginFieldCollection const* fc = runtime()->getFieldsToSerialize();
    if (fc == nullptr)
    {
        throw std::runtime_error(name() + "::getFieldsToSerialize returned null" + loggedSince(mark));
    }
    // Scalars are the fields the creator advertises with length 1; others come back as lists.
    std::map<std::string, int32_t> advertised;
    PluginFieldCollection const* table = creator()->getFieldNames();
    for (int32_t i = 0; table != nullptr && i < table->nbFields; ++i)
    {
        advertised[table->fields[i].name] = table->fields[i].length;
    }
    OwnedFields copy = copyFields(*fc);
    PluginFieldCollection const* owned = copy.collection();
    py::dict out;
    for (int32_t i = 0; i < owned->nbFields; ++i)
    {
        PluginField const& f = owned->fields[i];
        auto const it = advertised.find(f.name);
        out[py::str(f.name)] = fieldToPython(f, it != advertised.end() && it->second == 1);
    }
    return out;
}

std::unique_ptr<HostPlugin> HostPlugin::clone()
{
    size_t const mark = captureLogger().size();
    IPluginV3* copy = mPlugin->clone();
    if (copy == nullptr)
    {
        throw std::runtime_error(name() + "::clone returned null" + loggedSince(mark));
    }
    return std::make_unique<HostPlugin>(mLib, copy, mPhase);
}

std::unique_ptr<HostPlugin> HostPlugin::roundTrip()
{
    size_t const mark = captureLogger().size();
    PluginFieldCollection const* fc = runtime()->getFieldsToSerialize();
    if (fc == nullptr)
    {
        throw std::runtime_error(name() + "::getFieldsToSerialize returned null" + loggedSince(mark));
    }
    // The engine stores a copy; the plugin object that produced the fields may be gone by now.
    OwnedFields stored = copyFields(*fc);
    auto plugin = createPlugin(mLib, creator(), stored.collection(), TensorRTPhase::kRUNTIME);
    stored.poison(); // a plugin that kept pointers into its fields now reads garbage, visibly
    return plugin;
}

std::unique_ptr<HostPlugin> HostPlugin::attachToContext()
{
    size_t const mark = captureLogger().size();
    IPluginV3* attached = runtime()->attachToContext(resourceContext());
    if (attached == nullptr)
    {
        throw std::runtime_error(name() + "::attachToContext returned null" + loggedSince(mark));
    }
    return std::make_unique<HostPlugin>(mLib, attached, mPhase);
}

std::unique_ptr<HostPlugin> createPlugin(std::shared_ptr<Library> const& lib, IPluginCreatorV3One* creator,
    PluginFieldCollection const* fc, TensorRTPhase phase)
{
    IPluginV3* plugin = creator->createPlugin(creator->getPluginName(), fc, phase);
    if (plugin == nullptr)
    {
        return nullptr;
    }
    return std::make_unique<HostPlugin>(lib, plugin, phase);
}

} // namespace trtplug::host
