// One IPluginV3 object held by the host, with the calls TensorRT makes on it. Failures of the
// plugin (non-zero status, null results) raise RuntimeError carrying what the plugin logged;
// misuse by the caller raises ValueError.
#pragma once

#include "common/binding.h"
#include "host/host.h"

#include <NvInferRuntime.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

namespace trtplug::host
{

//! The output shapes of one run. A data-dependent dim (a size tensor used directly as the dim)
//! holds its upper bound in `bounds`, which is what TensorRT allocates and the caller must pass.
struct OutputPlan
{
    struct DataDependentDim
    {
        int32_t output;
        int32_t dim;
        int32_t sizeTensor; //!< output index of the size tensor holding the actual extent
        int64_t opt;
        int64_t upper;
    };
    std::vector<nvinfer1::Dims> bounds;
    std::vector<DataDependentDim> dataDependent;
};

class HostPlugin
{
public:
    HostPlugin(std::shared_ptr<Library> lib, nvinfer1::IPluginV3* plugin, nvinfer1::TensorRTPhase phase);

    std::string name() const { return mCore->getPluginName(); }
    std::string version() const { return mCore->getPluginVersion(); }
    std::string pluginNamespace() const { return mCore->getPluginNamespace(); }
    std::string phase() const;
    std::vector<std::string> capabilities();
    std::string repr() const;

    int32_t nbOutputs();
    //! The input TensorRT may alias to `output` (IPluginV3OneBuildV2::getAliasedInput), -1 for
    //! none or for a V1 build interface, which cannot declare aliasing.
    int32_t aliasedInput(int32_t output);
    std::vector<std::string> outputTypes(std::vector<std::string> const& inputTypes);
    pybind11::list outputShapes(pybind11::sequence inputShapes, pybind11::object shapeInputs);
    bool supportsFormats(std::vector<std::string> const& dtypes, pybind11::object formats, pybind11::object shapes);

    pybind11::dict fieldsToSerialize();
    std::unique_ptr<HostPlugin> clone();
    std::unique_ptr<HostPlugin> roundTrip();
    std::unique_ptr<HostPlugin> attachToContext();

    //! Upper-bound output shapes for concrete input shapes (equal to the shapes unless the plugin
    //! declares size tensors): what a caller of run() allocates, as TensorRT does.
    pybind11::list outputBounds(pybind11::sequence inputShapes, pybind11::object shapeInputs);

    //! configurePlugin -> getWorkspaceSize for inputs then outputs of these types and shapes
    //! (min = opt = `shapes`, max = `maxShapes` or `shapes`): the build phase's size, no GPU needed.
    size_t workspaceSize(std::vector<std::string> const& dtypes, pybind11::sequence shapes, pybind11::object maxShapes);

    //! configure -> workspace -> attachToContext -> setTactic -> onShapeChange -> enqueue.
    //! `shapeInputs`: None or the values of each shape input (lists of ints), which reach the
    //! plugin only in getOutputShapes, as constants, the way addPluginV3's shapeInputs do.
    //! Returns the actual output shapes: for a plugin with size tensors the outputs are allocated
    //! at their upper bounds, and run() synchronizes to read the size tensors.
    pybind11::list run(pybind11::sequence inputs, pybind11::sequence outputs, pybind11::handle stream,
        bool synchronize, pybind11::object shapeInputs = pybind11::none());

private:
    nvinfer1::IPluginV3OneBuild* build(bool required = true);
    nvinfer1::IPluginV3OneRuntime* runtime();
    nvinfer1::IPluginCreatorV3One* creator() const;

    //! Raises RuntimeError "<plugin>::<method> returned <status>: <logged since mark>".
    void check(int32_t status, char const* method, size_t mark) const;

    //! Raises RuntimeError where a tensor with elements has a null buffer (before enqueue).
    void requireBuffers(std::vector<DeviceArray> const& arrays, char const* what) const;

    //! Output shapes for concrete input dims (what run() compares its outputs with).
    OutputPlan concreteShapes(
        std::vector<nvinfer1::Dims> const& inputs, std::vector<std::vector<int64_t>> const& shapeValues = {});

    //! configurePlugin on `inOut` (inputs first), then getWorkspaceSize: no GPU.
    size_t configuredWorkspace(std::vector<nvinfer1::DynamicPluginTensorDesc>& inOut, int32_t nbIn);

    //! The build-phase calls before execution; returns the workspace size and fills `plan`.
    size_t prepareBuild(std::vector<nvinfer1::PluginTensorDesc> const& in,
        std::vector<nvinfer1::PluginTensorDesc> const& out, std::vector<std::vector<int64_t>> const& shapeValues,
        OutputPlan& plan);

    //! The caller's output shapes with each data-dependent dim set from its size tensor.
    pybind11::list actualShapes(OutputPlan const& plan, std::vector<DeviceArray> const& outArrays,
        std::vector<nvinfer1::PluginTensorDesc> const& out) const;

    //! True when supportsFormatCombination accepts every position of `inOut`, queried one
    //! position at a time with later positions poisoned, as TensorRT's contract allows.
    bool queryFormats(std::vector<nvinfer1::DynamicPluginTensorDesc> const& inOut, int32_t nbInputs);

    std::shared_ptr<Library> mLib;
    std::unique_ptr<nvinfer1::IPluginV3> mPlugin;
    nvinfer1::TensorRTPhase mPhase;
    nvinfer1::IPluginV3OneCore* mCore{nullptr};
};

//! The values of each shape input (None: no shape inputs), as lists of ints.
std::vector<std::vector<int64_t>> shapeInputValues(pybind11::object shapeInputs);

//! The IPluginResourceContext handed to attachToContext: no allocator, no error recorder.
nvinfer1::IPluginResourceContext* resourceContext();

//! The capability of `type`, checked against the interface kind it reports (null if absent).
nvinfer1::IPluginCapability* capabilityOf(nvinfer1::IPluginV3& plugin, nvinfer1::PluginCapabilityType type);

} // namespace trtplug::host
