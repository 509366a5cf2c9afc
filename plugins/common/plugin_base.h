// The IPluginV3 boilerplate, written once. An op derives from GluePlugin<Op, glue_<key>::Glue>
// (its identity, counts, Params and value rules generated from the spec; or from
// PluginBase<Op, Params> with static kName, kVersion, kMinInputs, kMaxInputs, kNbOutputs) and
// provides only what is specific to it:
//
//   void outputTypes(Span<DataType const> in, Span<DataType> out) const;
//   void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const> shapeIn,
//                     Span<DimsExprs> out, IExprBuilder& expr) const;
//   bool supportsFormat(int32_t pos, Span<DynamicPluginTensorDesc const> inOut, int32_t nbInputs) const;
//   cudaError_t execute(Span<PluginTensorDesc const> in, Span<PluginTensorDesc const> out,
//                       void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t);
// and may hide the defaults configure(), shapeChanged() (input validation) and workspaceSize().
// An op with optional outputs also hides nbOutputs() to return its count from a field (the
// spec's `derived = "output_count"` attribute, validated with checkOutputCount); kNbOutputs
// is then the most it produces.
// Hooks report violated preconditions with TRTPLUG_ENSURE; the base logs them with plugin and
// method names and returns TensorRT's error code. Register with TRTPLUG_REGISTER_PLUGIN(Op).
#pragma once

#include "common/plugin_fields.h"
#include "common/plugin_log.h"

#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace trtplug
{

//! Namespace of every built-in plugin; equals `plugin.namespace` in the specs.
inline constexpr char const* kPluginNamespace = "trtplug";

//! A pointer + count view of TensorRT's argument arrays (C++17 has no std::span).
template <class T>
struct Span
{
    T* data{nullptr};
    int32_t count{0};

    int32_t size() const noexcept { return count; }
    T& operator[](int32_t i) const noexcept { return data[i]; }
    T* begin() const noexcept { return data; }
    T* end() const noexcept { return data + count; }
};

//! Element count of concrete dims (1 for rank 0).
inline int64_t volume(nvinfer1::Dims const& d) noexcept
{
    int64_t n = 1;
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        n *= d.d[i];
    }
    return n;
}

//! Runs `f` and maps any exception to a logged error; TensorRT only ever sees `failed`.
template <class R, class F>
R guarded(char const* plugin, char const* method, R failed, F&& f) noexcept
{
    try
    {
        return f();
    }
    catch (std::exception const& e)
    {
        logError(plugin, method, e.what());
    }
    catch (...)
    {
        logError(plugin, method, "unknown exception");
    }
    return failed;
}

//! The concrete desc of a configure() or shapeChanged() argument, so one check serves both.
inline nvinfer1::PluginTensorDesc const& descOf(nvinfer1::DynamicPluginTensorDesc const& d) noexcept
{
    return d.desc;
}
inline nvinfer1::PluginTensorDesc const& descOf(nvinfer1::PluginTensorDesc const& d) noexcept
{
    return d;
}

//! Build: the build capability's interface, IPluginV3OneBuild (TensorRT 10.0+), or
//! IPluginV3OneBuildV2 (TensorRT 10.3+) for an op that declares aliased outputs (getAliasedInput).
template <class Op, class Params = NoParams, class Build = nvinfer1::IPluginV3OneBuild>
class PluginBase : public nvinfer1::IPluginV3,
                   public nvinfer1::IPluginV3OneCore,
                   public Build,
                   public nvinfer1::IPluginV3OneRuntime
{
public:
    using ParamsType = Params;
    using DataType = nvinfer1::DataType;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    explicit PluginBase(Params params)
        : mParams(std::move(params))
    {
    }

    Params const& params() const noexcept { return mParams; }

    // Defaults an op may hide (same signature, in the op class).
    int32_t nbOutputs() const noexcept { return Op::kNbOutputs; }
    void configure(Span<DynDesc const>, Span<DynDesc const>) {}
    void shapeChanged(Span<Desc const>, Span<Desc const>) {}
    size_t workspaceSize(Span<DynDesc const>, Span<DynDesc const>) const { return 0; }

    // IPluginV3: every capability comes from this one object.
    nvinfer1::IPluginCapability* getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept override
    {
        switch (type)
        {
        case nvinfer1::PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
        case nvinfer1::PluginCapabilityType::kBUILD: return static_cast<Build*>(this);
        case nvinfer1::PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
        }
        return nullptr;
    }

    nvinfer1::IPluginV3* clone() noexcept override
    {
        return guarded<nvinfer1::IPluginV3*>(
            Op::kName, "clone", nullptr, [this] { return new Op(static_cast<Op const&>(*this)); });
    }

    // IPluginV3OneCore
    char const* getPluginName() const noexcept override { return Op::kName; }
    char const* getPluginVersion() const noexcept override { return Op::kVersion; }
    char const* getPluginNamespace() const noexcept override { return kPluginNamespace; }

    // IPluginV3OneBuild
    int32_t getNbOutputs() const noexcept override { return self().nbOutputs(); }

    int32_t getOutputDataTypes(
        DataType* outputTypes, int32_t nbOutputs, DataType const* inputTypes, int32_t nbInputs) const noexcept override
    {
        return guarded(Op::kName, "getOutputDataTypes", int32_t{-1}, [&] {
            checkCounts(nbInputs, nbOutputs);
            self().outputTypes(Span<DataType const>{inputTypes, nbInputs}, Span<DataType>{outputTypes, nbOutputs});
            return int32_t{0};
        });
    }

    int32_t getOutputShapes(DimsExprs const* inputs, int32_t nbInputs, DimsExprs const* shapeInputs,
        int32_t nbShapeInputs, DimsExprs* outputs, int32_t nbOutputs,
        nvinfer1::IExprBuilder& exprBuilder) noexcept override
    {
        return guarded(Op::kName, "getOutputShapes", int32_t{-1}, [&] {
            checkCounts(nbInputs, nbOutputs);
            self().outputShapes(Span<DimsExprs const>{inputs, nbInputs},
                Span<DimsExprs const>{shapeInputs, nbShapeInputs}, Span<DimsExprs>{outputs, nbOutputs}, exprBuilder);
            return int32_t{0};
        });
    }

    bool supportsFormatCombination(
        int32_t pos, DynDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept override
    {
        return guarded(Op::kName, "supportsFormatCombination", false, [&] {
            checkCounts(nbInputs, nbOutputs);
            TRTPLUG_ENSURE(pos >= 0 && pos < nbInputs + nbOutputs, "position " + std::to_string(pos) + " out of range");
            return self().supportsFormat(pos, Span<DynDesc const>{inOut, nbInputs + nbOutputs}, nbInputs);
        });
    }

    int32_t configurePlugin(DynDesc const* in, int32_t nbInputs, DynDesc const* out, int32_t nbOutputs) noexcept override
    {
        return guarded(Op::kName, "configurePlugin", int32_t{-1}, [&] {
            checkCounts(nbInputs, nbOutputs);
            self().configure(Span<DynDesc const>{in, nbInputs}, Span<DynDesc const>{out, nbOutputs});
            mNbInputs = nbInputs;
            return int32_t{0};
        });
    }

    size_t getWorkspaceSize(
        DynDesc const* in, int32_t nbInputs, DynDesc const* out, int32_t nbOutputs) const noexcept override
    {
        // No error channel here: a failure logs and asks for nothing; execute() must cope.
        return guarded(Op::kName, "getWorkspaceSize", size_t{0}, [&] {
            checkCounts(nbInputs, nbOutputs);
            return self().workspaceSize(Span<DynDesc const>{in, nbInputs}, Span<DynDesc const>{out, nbOutputs});
        });
    }

    // IPluginV3OneRuntime
    int32_t onShapeChange(Desc const* in, int32_t nbInputs, Desc const* out, int32_t nbOutputs) noexcept override
    {
        return guarded(Op::kName, "onShapeChange", int32_t{-1}, [&] {
            checkCounts(nbInputs, nbOutputs);
            self().shapeChanged(Span<Desc const>{in, nbInputs}, Span<Desc const>{out, nbOutputs});
            mNbInputs = nbInputs;
            return int32_t{0};
        });
    }

    int32_t enqueue(Desc const* inputDesc, Desc const* outputDesc, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) noexcept override
    {
        return guarded(Op::kName, "enqueue", int32_t{-1}, [&] {
            // enqueue carries no input count: TensorRT calls onShapeChange (or configurePlugin) first.
            TRTPLUG_ENSURE(mNbInputs >= 0, "called before onShapeChange/configurePlugin");
            cudaError_t const err = self().execute(Span<Desc const>{inputDesc, mNbInputs},
                Span<Desc const>{outputDesc, self().nbOutputs()}, inputs, outputs, workspace, stream);
            TRTPLUG_ENSURE(err == cudaSuccess, std::string("CUDA error ") + cudaGetErrorName(err) + ": "
                    + cudaGetErrorString(err));
            return int32_t{0};
        });
    }

    nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext*) noexcept override { return clone(); }

    nvinfer1::PluginFieldCollection const* getFieldsToSerialize() noexcept override
    {
        return guarded<nvinfer1::PluginFieldCollection const*>(Op::kName, "getFieldsToSerialize", nullptr, [this] {
            // Rebuilt on each call: the fields point into mParams, which clone() copies.
            serializeFields(mParams, mSerialFields);
            mSerialCollection.nbFields = static_cast<int32_t>(mSerialFields.size());
            mSerialCollection.fields = mSerialFields.data();
            return &mSerialCollection;
        });
    }

protected:
    Params mParams;

    //! For op constructors: an output-count field must lie in 1..Op::kNbOutputs.
    static int32_t checkOutputCount(int32_t count, char const* field)
    {
        TRTPLUG_ENSURE(count >= 1 && count <= Op::kNbOutputs,
            std::string("field '") + field + "': must be 1.." + std::to_string(Op::kNbOutputs) + ", got "
                + std::to_string(count));
        return count;
    }

private:
    Op& self() noexcept { return static_cast<Op&>(*this); }
    Op const& self() const noexcept { return static_cast<Op const&>(*this); }

    void checkCounts(int32_t nbInputs, int32_t nbOutputs) const
    {
        TRTPLUG_ENSURE(nbInputs >= Op::kMinInputs && nbInputs <= Op::kMaxInputs,
            "expected " + std::to_string(Op::kMinInputs) + ".." + std::to_string(Op::kMaxInputs) + " inputs, got "
                + std::to_string(nbInputs));
        TRTPLUG_ENSURE(nbOutputs == self().nbOutputs(),
            "expected " + std::to_string(self().nbOutputs()) + " outputs, got " + std::to_string(nbOutputs));
    }

    int32_t mNbInputs{-1};
    std::vector<nvinfer1::PluginField> mSerialFields;
    nvinfer1::PluginFieldCollection mSerialCollection{};
};

//! The creator of Op: field table from Op::ParamsType, createPlugin with validated fields.
//! PluginBase with the identity, counts, Params and value rules of the op's generated glue
//! (glue_<key>::Glue from <key>/op_glue.h): an op declares none of them by hand, and a plugin
//! created with a value the spec forbids fails createPlugin with the spec's wording.
template <class Op, class Glue, class Build = nvinfer1::IPluginV3OneBuild>
class GluePlugin : public PluginBase<Op, typename Glue::Params, Build>
{
public:
    static constexpr char const* kName = Glue::kName;
    static constexpr char const* kVersion = Glue::kVersion;
    static constexpr int32_t kMinInputs = Glue::kMinInputs;
    static constexpr int32_t kMaxInputs = Glue::kMaxInputs;
    static constexpr int32_t kNbOutputs = Glue::kNbOutputs;

    explicit GluePlugin(typename Glue::Params params)
        : PluginBase<Op, typename Glue::Params, Build>(std::move(params))
    {
        std::string const problem = Glue::validate(this->params());
        TRTPLUG_ENSURE(problem.empty(), problem);
    }
};

template <class Op>
class CreatorBase final : public nvinfer1::IPluginCreatorV3One
{
public:
    using Params = typename Op::ParamsType;

    CreatorBase()
        : mFields(fieldTable<Params>())
    {
        mCollection.nbFields = static_cast<int32_t>(mFields.size());
        mCollection.fields = mFields.data();
    }

    char const* getPluginName() const noexcept override { return Op::kName; }
    char const* getPluginVersion() const noexcept override { return Op::kVersion; }
    char const* getPluginNamespace() const noexcept override { return kPluginNamespace; }
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override { return &mCollection; }

    //! Same fields in both phases: kRUNTIME receives what getFieldsToSerialize produced.
    nvinfer1::IPluginV3* createPlugin(
        char const*, nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase) noexcept override
    {
        return guarded<nvinfer1::IPluginV3*>(Op::kName, "createPlugin", nullptr, [fc] {
            Params params{};
            std::string const error = parseFields(fc, params);
            TRTPLUG_ENSURE(error.empty(), error);
            return new Op(std::move(params)); // the Op constructor may validate values (PluginError)
        });
    }

private:
    std::vector<nvinfer1::PluginField> mFields;
    nvinfer1::PluginFieldCollection mCollection{};
};

//! Adds a creator to the list getCreators() returns; called from static initialisers.
int registerCreator(nvinfer1::IPluginCreatorInterface* creator) noexcept;

} // namespace trtplug

//! Registers Op's creator when the plugin library loads (no central list). Use it in the
//! namespace that declares Op, with the unqualified class name.
#define TRTPLUG_REGISTER_PLUGIN(Op)                                                                                    \
    static ::trtplug::CreatorBase<Op> trtplugCreator_##Op;                                                             \
    [[maybe_unused]] static int const kTrtplugCreatorRegistered_##Op = ::trtplug::registerCreator(&trtplugCreator_##Op)
