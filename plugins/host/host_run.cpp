// HostPlugin::run: one layer execution the way an engine does it. The build half checks the
// caller's outputs against the plugin's own type and shape rules and the format query, then
// configures and sizes the workspace; the runtime half attaches a per-context clone and
// enqueues on the caller's stream. HostPlugin::workspaceSize: configure and size alone, no GPU.
#include "host/host_plugin.h"

#include "common/binding.h"
#include "common/stream_scratch.h"
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

//! TensorRT's workspace: stream-ordered scratch, poisoned so a plugin cannot rely on it being zeroed.
class Workspace
{
public:
    Workspace(size_t bytes, cudaStream_t stream)
        : mScratch(bytes, stream)
    {
        if (bytes > 0)
        {
            checkCuda(cudaMemsetAsync(mScratch.get(), 0xFF, bytes, stream), "workspace cudaMemsetAsync");
        }
    }
    void* get() const noexcept { return mScratch.get(); }

private:
    StreamScratch mScratch;
};

//! A concrete Python shape (a list of ints) as Dims.
Dims dimsOf(py::handle shape, size_t index)
{
    auto const values = py::cast<std::vector<int64_t>>(shape);
    require(values.size() <= static_cast<size_t>(Dims::MAX_DIMS), "tensor " + std::to_string(index) + ": rank above 8");
    Dims d{};
    d.nbDims = static_cast<int32_t>(values.size());
    std::copy(values.begin(), values.end(), d.d);
    return d;
}

//! A size tensor's value, copied from the device (the stream has been synchronized).
int64_t readSizeTensor(DeviceArray const& a, DataType type)
{
    if (type == DataType::kINT64)
    {
        int64_t v = 0;
        checkCuda(cudaMemcpy(&v, reinterpret_cast<void const*>(a.ptr), sizeof(v), cudaMemcpyDeviceToHost),
            "size tensor read");
        return v;
    }
    int32_t v = 0;
    checkCuda(cudaMemcpy(&v, reinterpret_cast<void const*>(a.ptr), sizeof(v), cudaMemcpyDeviceToHost),
        "size tensor read");
    return v;
}

} // namespace

size_t HostPlugin::prepareBuild(std::vector<PluginTensorDesc> const& in, std::vector<PluginTensorDesc> const& out,
    std::vector<std::vector<int64_t>> const& shapeValues, OutputPlan& plan)
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
    plan = concreteShapes(inDims, shapeValues);
    for (size_t i = 0; i < out.size(); ++i)
    {
        require(types[i] == out[i].type, "output " + std::to_string(i) + " is " + trtTypeName(out[i].type)
                + " but the plugin declares " + trtTypeName(types[i]));
        require(sameDims(plan.bounds[i], out[i].dims), "output " + std::to_string(i) + " has shape "
                + dimsText(out[i].dims) + " but the plugin declares " + dimsText(plan.bounds[i])
                + (plan.dataDependent.empty() ? "" : " (upper bounds for its size-tensor dims)"));
    }
    for (auto const& d : plan.dataDependent)
    {
        require(types[d.sizeTensor] == DataType::kINT32 || types[d.sizeTensor] == DataType::kINT64,
            "size tensor (output " + std::to_string(d.sizeTensor) + ") must be int32 or int64, the plugin declares "
                + trtTypeName(types[d.sizeTensor]));
    }
    std::vector<DynamicPluginTensorDesc> inOut;
    for (auto const& d : in)
    {
        inOut.push_back(dynamic(d));
    }
    for (auto const& d : out)
    {
        inOut.push_back(dynamic(d));
    }
    auto const nbIn = static_cast<int32_t>(in.size());
    for (auto const& d : plan.dataDependent)
    {
        // As the builder describes a data-dependent dim: unknown (-1), bounded by opt and upper.
        DynamicPluginTensorDesc& desc = inOut[static_cast<size_t>(nbIn + d.output)];
        desc.desc.dims.d[d.dim] = -1;
        desc.min.d[d.dim] = 0;
        desc.opt.d[d.dim] = d.opt;
        desc.max.d[d.dim] = d.upper;
    }
    mark = captureLogger().size();
    require(queryFormats(inOut, nbIn),
        name() + " does not support these input/output types in linear format" + loggedSince(mark));
    return configuredWorkspace(inOut, nbIn);
}

size_t HostPlugin::configuredWorkspace(std::vector<DynamicPluginTensorDesc>& inOut, int32_t nbIn)
{
    auto const nbOut = static_cast<int32_t>(inOut.size()) - nbIn;
    size_t const mark = captureLogger().size();
    check(build()->configurePlugin(inOut.data(), nbIn, inOut.data() + nbIn, nbOut), "configurePlugin", mark);
    return build()->getWorkspaceSize(inOut.data(), nbIn, inOut.data() + nbIn, nbOut);
}

size_t HostPlugin::workspaceSize(std::vector<std::string> const& dtypes, py::sequence shapes, py::object maxShapes)
{
    size_t const n = dtypes.size();
    int32_t const nbIn = static_cast<int32_t>(n) - nbOutputs();
    require(nbIn >= 0 && py::len(shapes) == n && (maxShapes.is_none() || py::len(maxShapes) == n),
        "give one dtype and shape per input and output (" + std::to_string(nbOutputs()) + " outputs)");
    std::vector<DynamicPluginTensorDesc> inOut;
    for (size_t i = 0; i < n; ++i)
    {
        PluginTensorDesc d{};
        d.dims = dimsOf(shapes[i], i);
        require(trtTypeFromName(dtypes[i].c_str(), d.type), "unknown TensorRT data type '" + dtypes[i] + "'");
        d.format = TensorFormat::kLINEAR;
        d.scale = -1.F;
        inOut.push_back(dynamic(d));
        if (!maxShapes.is_none())
        {
            inOut.back().max = dimsOf(py::list(maxShapes)[i], i);
        }
    }
    return configuredWorkspace(inOut, nbIn);
}

//! TensorRT never gives enqueue a null buffer for a tensor with elements. A caller's null one (a fake
//! array standing in for a device buffer in a shape-check test) would have the kernel fault on a
//! GPU machine and leave the CUDA context dead for every later call in the process (a test that
//! expects the failure passes, the ones after it fail), so it is refused before enqueue.
void HostPlugin::requireBuffers(std::vector<DeviceArray> const& arrays, char const* what) const
{
    for (size_t i = 0; i < arrays.size(); ++i)
    {
        if (arrays[i].ptr == 0 && arrays[i].size > 0)
        {
            throw std::runtime_error(name() + ": enqueue not called: " + what + " " + std::to_string(i)
                + " has elements but a null device pointer");
        }
    }
}

py::list HostPlugin::run(py::sequence inputs, py::sequence outputs, py::handle stream, bool synchronize,
    py::object shapeInputs)
{
    std::vector<std::vector<int64_t>> const shapeValues = shapeInputValues(shapeInputs);
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
    OutputPlan plan;
    size_t const workspaceBytes = build(false) != nullptr ? prepareBuild(in, out, shapeValues, plan) : 0;

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
    // Data-dependent dims are unknown (-1) at runtime too: a plugin must not size its work by them.
    std::vector<PluginTensorDesc> runOut(out);
    for (auto const& d : plan.dataDependent)
    {
        runOut[static_cast<size_t>(d.output)].dims.d[d.dim] = -1;
    }
    auto const nbIn = static_cast<int32_t>(in.size());
    auto const nbOut = static_cast<int32_t>(out.size());
    check(rt->setTactic(0), "setTactic", mark);
    check(rt->onShapeChange(in.data(), nbIn, runOut.data(), nbOut), "onShapeChange", mark);
    requireBuffers(inArrays, "input");
    requireBuffers(outArrays, "output");

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
    check(rt->enqueue(in.data(), runOut.data(), inPtrs.data(), outPtrs.data(), workspace.get(), s), "enqueue", mark);
    checkCuda(cudaGetLastError(), (name() + "::enqueue left a CUDA error").c_str());
    if (synchronize || !plan.dataDependent.empty())
    {
        checkCuda(cudaStreamSynchronize(s), (name() + ": stream synchronize after enqueue").c_str());
    }
    return actualShapes(plan, outArrays, out);
}

py::list HostPlugin::actualShapes(
    OutputPlan const& plan, std::vector<DeviceArray> const& outArrays, std::vector<PluginTensorDesc> const& out) const
{
    std::vector<Dims> actual;
    for (auto const& d : out)
    {
        actual.push_back(d.dims);
    }
    for (auto const& d : plan.dataDependent)
    {
        int64_t const value = readSizeTensor(outArrays[static_cast<size_t>(d.sizeTensor)], out[d.sizeTensor].type);
        require(value >= 0 && value <= d.upper, name() + ": size tensor (output " + std::to_string(d.sizeTensor)
                + ") holds " + std::to_string(value) + ", outside [0, " + std::to_string(d.upper)
                + "] (its declared upper bound)");
        actual[static_cast<size_t>(d.output)].d[d.dim] = value;
    }
    py::list shapes;
    for (auto const& d : actual)
    {
        py::tuple shape(d.nbDims);
        for (int32_t j = 0; j < d.nbDims; ++j)
        {
            shape[static_cast<size_t>(j)] = d.d[j];
        }
        shapes.append(shape);
    }
    return shapes;
}

} // namespace trtplug::host
