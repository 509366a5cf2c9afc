// TrtplugMoE: the IPluginV3 adapter over launchMoe (spec: plugins/moe/spec.toml). Inputs input,
// router_probs, fc1 weights, then the optional fc1 bias, fc2 weights and the optional fc2 bias,
// fc3 weights and bias (absent: left out when trailing, else empty tensors); output: input's shape.
// The workspace holds the routes, the per-expert groups and the expert activations, asked for
// input's largest shape.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "moe/moe_plugin.h"
#include "moe/moe.h"
#include "moe/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

enum Input : int32_t
{
    kInput = 0,
    kRouter,
    kFc1,
    kFc1Bias,
    kFc2,
    kFc2Bias,
    kFc3,
    kFc3Bias,
};


class MoePlugin : public MoeFamilyPlugin<MoePlugin, glue_moe::Glue>
{
public:
    using MoeFamilyPlugin::MoeFamilyPlugin;

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? isSupported(d.type) : d.type == inOut[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        MoeProblem p{};
        std::string const problem = moeCheckShapes(moeAttrs(params()), shapesOf(in, out[0]), p);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    //! Scratch for input's largest shape (routes, groups, fc1/fc3 outputs and the activation).
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const> out) const
    {
        MoeProblem p{};
        // Absent optional inputs (left out, or the rewrite's empty stand-ins) are empty shapes.
        auto maxShape = [&](int32_t i) {
            return i < in.size() && in[i].max.nbDims > 0 && volume(in[i].max) > 0 ? TensorShape::of(in[i].max)
                                                                                     : TensorShape{};
        };
        MoeShapes const s{maxShape(kInput), maxShape(kRouter), maxShape(kFc1), maxShape(kFc1Bias), maxShape(kFc2),
            maxShape(kFc2Bias), maxShape(kFc3), maxShape(kFc3Bias), TensorShape::of(out[0].max)};
        return moeCheckShapes(moeAttrs(params()), s, p).empty() ? moeWorkspaceBytes(p) : 0;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        MoeProblem p{};
        if (!toDType(in[kInput].type, dtype) || !moeCheckShapes(moeAttrs(params()), shapesOf(in, out[0]), p).empty())
        {
            return cudaErrorInvalidValue;
        }
        auto optional = [&](int32_t i) -> void const* {
            return i < in.size() && in[i].dims.nbDims > 0 && volume(in[i].dims) > 0 ? inputs[i] : nullptr;
        };
        p.input = inputs[kInput];
        p.router = inputs[kRouter];
        p.fc1 = inputs[kFc1];
        p.fc1Bias = optional(kFc1Bias);
        p.fc2 = inputs[kFc2];
        p.fc2Bias = optional(kFc2Bias);
        p.fc3 = optional(kFc3);
        p.fc3Bias = optional(kFc3Bias);
        p.output = outputs[0];
        // TensorRT gives at least what workspaceSize asked for input's largest shape, which covers this one.
        return launchMoe(dtype, p, workspace, moeWorkspaceBytes(p), stream);
    }

private:
    //! Shapes of the call; absent or empty optional inputs as empty shapes.
    static MoeShapes shapesOf(Span<Desc const> in, Desc const& y) noexcept
    {
        auto shape = [&](int32_t i) {
            return i < in.size() && in[i].dims.nbDims > 0 && volume(in[i].dims) > 0 ? TensorShape::of(in[i].dims)
                                                                                    : TensorShape{};
        };
        return MoeShapes{TensorShape::of(in[kInput].dims), TensorShape::of(in[kRouter].dims),
            TensorShape::of(in[kFc1].dims), shape(kFc1Bias), TensorShape::of(in[kFc2].dims), shape(kFc2Bias),
            shape(kFc3), shape(kFc3Bias), TensorShape::of(y.dims)};
    }
};

TRTPLUG_REGISTER_PLUGIN(MoePlugin);

} // namespace
} // namespace trtplug
