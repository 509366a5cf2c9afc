// HostPlugin::run: one layer execution the way an engine does it. The build half checks the
// caller's outputs against the plugin's own type and shape rules and the format query, then
// configures and sizes the workspace; the runtime half attaches a per-context clone and
// enqueues on the caller's stream.
#include "host/host_plugin.h"

#include "common/binding.h"
#include "common/trt_dtype.h"
#include "host/expr_builder.h"

#include <cuda_runtime_api.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <stdexcept>

namespace py = pybind11;
using namespace nvinfer1;

namespace trtplug::host
{
namespace
{

PluginTensorDesc describe(DeviceArray const& a, char const* what, size_t index)
{
    require(a.shape.size() <= static_cast<size_t>(Dims::MAX_DIMS),
        std::string(what) + " " + std::to_string(index) + ": rank above 8");
    PluginTensorDesc d{};
    d.dims.nbDims = static_cast<int32_t>(a.shape.size());
    std::copy(a.shape.begin(), a.shape.end(), d.dims.d);
    d.type = toTrt(a.dtype);
    d.format = TensorFormat::kLINEAR;
    d.scale = -1.F; // TensorRT's "no INT8 scale"
    return d;
}

DynamicPluginTensorDesc dynamic(PluginTensorDesc const& d)
{
    // One concrete shape: min = opt = max, as an engine built for exactly these dims.
    return {d, d.dims, d.dims, d.dims};
}

std::string dimsText(Dims const& d)
{
    std::string s = "(";
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        s += (i ? ", " : "") + std::to_string(d.d[i]);
    }
    return s + ")";
}

bool sameDims(Dims const& a, Dims const& b)
{
    return a.nbDims == b.nbDims && std::equal(a.d, a.d + a.nbDims, b.d);
}

//! Stream-ordered scratch memory, poisoned so a plugin cannot rely on it being zeroed.
class Workspace
{
public:
    Workspace(size_t bytes, cudaStream_t stream)
        : mStream(stream)
    {
        if (bytes > 0)
        {
            checkCuda(cudaMallocAsync(&mPtr, bytes, stream), "workspace cudaMallocAsync");
            checkCuda(cudaMemsetAsync(mPtr, 0xFF, bytes, stream), "workspace cudaMemsetAsync");
        }
    }
    ~Workspace()
    {
        if (mPtr != nullptr)
        {
            cudaFreeAsync(mPtr, mStream);
        }
    }
    Workspace(Workspace const&) = delete;
    Workspace& operator=(Workspace const&) = delete;
    void* get() const noexcept { return mPtr; }

private:
    void* mPtr{nullptr};
    cudaStream_t mStream;
};

} // namespace

std::vector<Dims> HostPlugin::concreteShapes(
    std::vector<Dims> const& inputs, std::vector<std::vector<int64_t>> const& shapeValues)
{
    HostExprBuilder builder;
    std::vector<DimsExprs> in(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
    {
        in[i].nbDims = inputs[i].nbDims;
        for (int32_t j = 0; j < inputs[i].nbDims; ++j)
        {
            in[i].d[j] = builder.makeConstant(inputs[i].d[j]);
        }
    }
    // A shape input's DimsExprs holds its values (one per element), as TensorRT passes them.
    std::vector<DimsExprs> shapeIn(shapeValues.size());
    for (size_t i = 0; i < shapeValues.size(); ++i)
    {
        require(shapeValues[i].size() <= static_cast<size_t>(Dims::MAX_DIMS),
            "shape input " + std::to_string(i) + ": more than 8 values");
        shapeIn[i].nbDims = static_cast<int32_t>(shapeValues[i].size());
        for (int32_t j = 0; j < shapeIn[i].nbDims; ++j)
        {
            shapeIn[i].d[j] = builder.makeConstant(shapeValues[i][static_cast<size_t>(j)]);
        }
    }
    DimsExprs unset{};
    unset.nbDims = -1;
    std::vector<DimsExprs> out(static_cast<size_t>(nbOutputs()), unset);
    size_t const mark = captureLogger().size();
    check(build()->getOutputShapes(in.data(), static_cast<int32_t>(in.size()),
              shapeIn.empty() ? nullptr : shapeIn.data(), static_cast<int32_t>(shapeIn.size()), out.data(),
              static_cast<int32_t>(out.size()), builder),
        "getOutputShapes", mark);
    std::vector<Dims> shapes(out.size());
    for (size_t i = 0; i < out.size(); ++i)
    {
        bool ok = builder.errors().empty() && out[i].nbDims >= 0 && out[i].nbDims <= Dims::MAX_DIMS;
        shapes[i].nbDims = ok ? out[i].nbDims : 0;
        for (int32_t j = 0; ok && j < out[i].nbDims; ++j)
        {
            HostExpr const* e = builder.find(out[i].d[j]);
            ok = e != nullptr && e->constant();
            shapes[i].d[j] = ok ? e->value() : -1;
        }
        if (!ok)
        {
            throw std::runtime_error(name() + "::getOutputShapes gave no constant shape for output "
                + std::to_string(i) + " from constant inputs");
        }
    }
    return shapes;
}

size_t HostPlugin::prepareBuild(std::vector<PluginTensorDesc> const& in, std::vector<PluginTensorDesc> const& out,
    std::vector<std::vector<int64_t>> const& shapeValues)
{
    require(static_cast<int32_t>(out.size()) == nbOutputs(),
        name() + " has " + std::to_string(nbOutputs()) + " outputs, got " + std::to_string(out.size()) + " arrays");
    std::vector<DataType> inTypes;
    std::vector<Dims> inDims;
    for (auto const& d : in)
    {
        inTypes.push_back(d.type);
        inDims.push_back(d.dims);
    }
    std::vector<DataType> types(out.size(), static_cast<DataType>(-1));
    size_t mark = captureLogger().size();
    check(build()->getOutputDataTypes(types.data(), static_cast<int32_t>(types.size()), inTypes.data(),
              static_cast<int32_t>(inTypes.size())),
        "getOutputDataTypes", mark);
    std::vector<Dims> const shapes = concreteShapes(inDims, shapeValues);
    for (size_t i = 0; i < out.size(); ++i)
    {
        require(types[i] == out[i].type, "output " + std::to_string(i) + " is " + trtTypeName(out[i].type)
                + " but the plugin declares " + trtTypeName(types[i]));
        require(sameDims(shapes[i], out[i].dims), "output " + std::to_string(i) + " has shape "
                + dimsText(out[i].dims) + " but the plugin declares " + dimsText(shapes[i]));
    }
    std::vector<DynamicPluginTensorDesc> dynIn;
    std::vector<DynamicPluginTensorDesc> dynOut;
    for (auto const& d : in)
    {
        dynIn.push_back(dynamic(d));
    }
    for (auto const& d : out)
    {
        dynOut.push_back(dynamic(d));
    }
    std::vector<DynamicPluginTensorDesc> inOut(dynIn);
    inOut.insert(inOut.end(), dynOut.begin(), dynOut.end());
    mark = captureLogger().size();
    require(queryFormats(inOut, static_cast<int32_t>(in.size())),
        name() + " does not support these input/output types in linear format" + loggedSince(mark));
    auto const nbIn = static_cast<int32_t>(dynIn.size());
    auto const nbOut = static_cast<int32_t>(dynOut.size());
    mark = captureLogger().size();
    check(build()->configurePlugin(dynIn.data(), nbIn, dynOut.data(), nbOut), "configurePlugin", mark);
    return build()->getWorkspaceSize(dynIn.data(), nbIn, dynOut.data(), nbOut);
}

void HostPlugin::run(py::sequence inputs, py::sequence outputs, py::handle stream, bool synchronize,
    py::object shapeInputs)
{
    std::vector<std::vector<int64_t>> shapeValues;
    if (!shapeInputs.is_none())
    {
        for (py::handle values : py::iter(shapeInputs))
        {
            shapeValues.push_back(values.cast<std::vector<int64_t>>());
        }
    }
    std::vector<DeviceArray> inArrays;
    std::vector<DeviceArray> outArrays;
    std::vector<PluginTensorDesc> in;
    std::vector<PluginTensorDesc> out;
    for (size_t i = 0; i < py::len(inputs); ++i)
    {
        inArrays.push_back(toDeviceArray(inputs[i], "input", false));
        in.push_back(describe(inArrays.back(), "input", i));
    }
    for (size_t i = 0; i < py::len(outputs); ++i)
    {
        outArrays.push_back(toDeviceArray(outputs[i], "output", true));
        out.push_back(describe(outArrays.back(), "output", i));
    }
    cudaStream_t const s = toStream(stream);
    // A runtime-phase object has no build capability; TensorRT then takes the workspace size
    // from the engine, and there is no engine here, so none is given.
    size_t const workspaceBytes = build(false) != nullptr ? prepareBuild(in, out, shapeValues) : 0;

    size_t mark = captureLogger().size();
    std::unique_ptr<IPluginV3> attached(runtime()->attachToContext(resourceContext()));
    if (!attached)
    {
        throw std::runtime_error(name() + "::attachToContext returned null" + loggedSince(mark));
    }
    auto* rt = static_cast<IPluginV3OneRuntime*>(capabilityOf(*attached, PluginCapabilityType::kRUNTIME));
    if (rt == nullptr)
    {
        throw std::runtime_error(name() + ": the attached clone has no runtime capability");
    }
    auto const nbIn = static_cast<int32_t>(in.size());
    auto const nbOut = static_cast<int32_t>(out.size());
    check(rt->setTactic(0), "setTactic", mark);
    check(rt->onShapeChange(in.data(), nbIn, out.data(), nbOut), "onShapeChange", mark);

    std::vector<void const*> inPtrs;
    std::vector<void*> outPtrs;
    for (auto const& a : inArrays)
    {
        inPtrs.push_back(reinterpret_cast<void const*>(a.ptr));
    }
    for (auto const& a : outArrays)
    {
        outPtrs.push_back(reinterpret_cast<void*>(a.ptr));
    }
    Workspace workspace(workspaceBytes, s);
    mark = captureLogger().size();
    check(rt->enqueue(in.data(), out.data(), inPtrs.data(), outPtrs.data(), workspace.get(), s), "enqueue", mark);
    checkCuda(cudaGetLastError(), (name() + "::enqueue left a CUDA error").c_str());
    if (synchronize)
    {
        checkCuda(cudaStreamSynchronize(s), (name() + ": stream synchronize after enqueue").c_str());
    }
}

} // namespace trtplug::host
