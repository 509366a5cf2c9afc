// trtplug._plugin_host: Python face of the plugin host (see host.h). Typical use:
//
//     lib = PluginLibrary(path)
//     plugin = lib.create("TrtplugFastGelu", "1", "trtplug", fields={}, phase="build")
//     plugin.output_shapes([["B", 8], [8]])  ->  [["B", 8]]
//     plugin.run([x, bias], [y], stream)
#include "common/plugin_fields.h"
#include "host/expr_builder.h"
#include "host/host_plugin.h"

#include <pybind11/stl.h>

#include <iterator>

namespace py = pybind11;
using namespace pybind11::literals;
using trtplug::host::HostPlugin;

namespace
{

class PluginLibrary
{
public:
    explicit PluginLibrary(std::string const& path)
        : mLib(trtplug::host::loadLibrary(path))
    {
    }

    std::string path() const { return mLib->path; }
    std::vector<std::string> otherCreators() const { return mLib->otherCreators; }

    py::list creators() const
    {
        py::list out;
        for (auto* c : mLib->creators)
        {
            py::list fields;
            nvinfer1::PluginFieldCollection const* fc = c->getFieldNames();
            for (int32_t i = 0; fc != nullptr && i < fc->nbFields; ++i)
            {
                nvinfer1::PluginField const& f = fc->fields[i];
                fields.append(py::dict("name"_a = f.name ? f.name : "", "type"_a = trtplug::fieldTypeName(f.type),
                    "length"_a = f.length));
            }
            out.append(py::dict("name"_a = c->getPluginName(), "version"_a = c->getPluginVersion(),
                "namespace"_a = c->getPluginNamespace(), "fields"_a = fields));
        }
        return out;
    }

    std::unique_ptr<HostPlugin> create(std::string const& name, std::string const& version, std::string const& ns,
        py::object fields, std::string const& phase) const
    {
        nvinfer1::IPluginCreatorV3One* creator = mLib->find(name, version, ns);
        if (creator == nullptr)
        {
            throw py::key_error("no creator " + name + " version " + version + " namespace '" + ns + "' in "
                + mLib->path);
        }
        auto owned = trtplug::host::fieldsFromPython(fields, creator->getFieldNames());
        return trtplug::host::createPlugin(mLib, creator, owned.collection(), trtplug::host::phaseFromName(phase));
    }

private:
    std::shared_ptr<trtplug::host::Library> mLib;
};

py::list messages()
{
    py::list out;
    for (auto const& [severity, text] : trtplug::host::captureLogger().since(0))
    {
        out.append(py::make_tuple(severity, text));
    }
    return out;
}

void clearMessages()
{
    trtplug::host::captureLogger().clear();
}

//! One IExprBuilder::operation on ints (constants) or strs (symbols), for testing the
//! builder plugins see: returns an int when the result is constant, else its text.
py::object dimensionOperation(std::string const& op, py::object a, py::object b)
{
    static char const* const kOps[] = {"sum", "prod", "max", "min", "sub", "equal", "less", "floor_div", "ceil_div"};
    int32_t index = -1;
    for (int32_t i = 0; i < static_cast<int32_t>(std::size(kOps)); ++i)
    {
        index = op == kOps[i] ? i : index;
    }
    if (index < 0)
    {
        throw py::value_error("unknown dimension operation '" + op + "'");
    }
    trtplug::host::HostExprBuilder builder;
    auto operand = [&builder](py::object v) -> nvinfer1::IDimensionExpr const* {
        return py::isinstance<py::str>(v) ? builder.makeSymbol(v.cast<std::string>())
                                          : builder.makeConstant(v.cast<int64_t>());
    };
    nvinfer1::IExprBuilder& api = builder; // through TensorRT's public entry point
    auto const* result = builder.find(
        api.operation(static_cast<nvinfer1::DimensionOperation>(index), *operand(a), *operand(b)));
    if (!builder.errors().empty())
    {
        throw py::value_error(builder.errors().front());
    }
    return result->constant() ? py::object(py::int_(result->value())) : py::object(py::str(result->text()));
}

} // namespace

PYBIND11_MODULE(_plugin_host, m)
{
    m.doc() = "Drives IPluginV3 plugin libraries through TensorRT's plugin lifecycle, without TensorRT";
    m.def("messages", &messages, "(severity, message) pairs logged by plugins loaded in this process");
    m.def("clear_messages", &clearMessages);
    m.def("dimension_operation", &dimensionOperation, "op"_a, "a"_a, "b"_a,
        "evaluate one DimensionOperation (sum, prod, max, min, sub, equal, less, floor_div, ceil_div) in the "
        "host's IExprBuilder: int operands are constants, str operands symbols");

    py::class_<PluginLibrary>(m, "PluginLibrary")
        .def(py::init<std::string const&>(), "path"_a,
            "dlopen the library, hand it a capturing logger (setLoggerFinder), read getCreators")
        .def_property_readonly("path", &PluginLibrary::path)
        .def_property_readonly("other_creators", &PluginLibrary::otherCreators,
            "interface kinds of creators that are not IPluginCreatorV3One")
        .def("creators", &PluginLibrary::creators,
            "[{name, version, namespace, fields: [{name, type, length}]}] from getFieldNames")
        .def("create", &PluginLibrary::create, "name"_a, "version"_a = "1", "namespace"_a = "trtplug",
            "fields"_a = py::none(), "phase"_a = "build",
            "createPlugin from fields (dict or (name, value) pairs); None when the creator refuses (reason in messages())")
        .def_static("messages", &messages)
        .def_static("clear_messages", &clearMessages);

    py::class_<HostPlugin>(m, "Plugin")
        .def_property_readonly("name", &HostPlugin::name)
        .def_property_readonly("version", &HostPlugin::version)
        .def_property_readonly("namespace", &HostPlugin::pluginNamespace)
        .def_property_readonly("phase", &HostPlugin::phase)
        .def_property_readonly("capabilities", &HostPlugin::capabilities)
        .def_property_readonly("nb_outputs", &HostPlugin::nbOutputs)
        .def("__repr__", &HostPlugin::repr)
        .def("aliased_input", &HostPlugin::aliasedInput, "output"_a,
            "the input TensorRT may alias to this output (IPluginV3OneBuildV2, honoured with "
            "PreviewFeature::kALIASED_PLUGIN_IO_10_03), or -1")
        .def("output_types", &HostPlugin::outputTypes, "input_dtypes"_a)
        .def("output_shapes", &HostPlugin::outputShapes, "input_shapes"_a, "shape_inputs"_a = py::none(),
            "dims are ints or symbol names; symbolic results come back as expression strings")
        .def("supports_format_combination", &HostPlugin::supportsFormats, "dtypes"_a, "formats"_a = py::none(),
            "shapes"_a = py::none(), "inputs then outputs; queried position by position like TensorRT")
        .def("fields_to_serialize", &HostPlugin::fieldsToSerialize)
        .def("clone", &HostPlugin::clone)
        .def("round_trip", &HostPlugin::roundTrip,
            "getFieldsToSerialize -> createPlugin(kRUNTIME), as engine serialization and loading do")
        .def("attach_to_context", &HostPlugin::attachToContext)
        .def("run", &HostPlugin::run, "inputs"_a, "outputs"_a, "stream"_a = py::none(), "synchronize"_a = true,
            "shape_inputs"_a = py::none(),
            "execute on CUDA arrays (__cuda_array_interface__): configure, workspace, attach, enqueue; shape_inputs: "
            "the values of each shape input (lists of ints), seen by getOutputShapes only. Returns the actual "
            "output shapes (size-tensor dims read back after a synchronize; outputs are allocated at "
            "output_bounds())")
        .def("workspace_size", &HostPlugin::workspaceSize, "dtypes"_a, "shapes"_a, "max_shapes"_a = py::none(),
            "configurePlugin then getWorkspaceSize for these inputs then outputs (min = opt = shapes, max = "
            "max_shapes or shapes): the workspace TensorRT would give, without a GPU")
        .def("output_bounds", &HostPlugin::outputBounds, "input_shapes"_a, "shape_inputs"_a = py::none(),
            "concrete output shapes with each size-tensor dim at its declared upper bound (what TensorRT allocates)");
}
