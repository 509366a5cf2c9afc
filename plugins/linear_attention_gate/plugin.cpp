// TrtplugLinearAttentionGate: the IPluginV3 adapter over launchLinearAttentionGate (spec:
// plugins/linear_attention_gate/spec.toml). Inputs a, dt_bias and decay_scale (float32, a's last
// dim elements), b (optional, a's shape); outputs decay and, when num_outputs is 2, beta (a's type and shape).
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "linear_attention_gate/linear_attention_gate.h"
#include "linear_attention_gate/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

// Identity, input/output counts, fields, defaults and value rules: generated from the spec.
class LinearAttentionGatePlugin : public GluePlugin<LinearAttentionGatePlugin, glue_linear_attention_gate::Glue>
{
public:
    using GluePlugin::GluePlugin;

    //! The optional outputs the node uses: the spec's derived num_outputs field.
    int32_t nbOutputs() const noexcept { return params().num_outputs; }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("a must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == DataType::kFLOAT && in[2] == DataType::kFLOAT, "dt_bias and decay_scale must be float32");
        TRTPLUG_ENSURE(in.size() < 4 || in[3] == in[0], "b must have a's type");
        for (auto& type : out)
        {
            type = in[0];
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        TRTPLUG_ENSURE(in[0].nbDims >= 1, "a must have rank >= 1");
        TRTPLUG_ENSURE(out.size() < 2 || in.size() > 3, "The b input is required when the beta output is requested");
        for (auto& shape : out)
        {
            shape = in[0];
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        if (pos == 1 || pos == 2)
        {
            return d.type == DataType::kFLOAT; // dt_bias, decay_scale
        }
        return pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type; // b, decay, beta follow a
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out) const
    {
        LinearAttentionGateArgs args;
        std::string const problem = shapes(args, in, out.size() > 1);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        LinearAttentionGateArgs args;
        if (!toDType(in[0].type, args.dtype) || !shapes(args, in, out.size() > 1).empty())
        {
            return cudaErrorInvalidValue;
        }
        args.a = inputs[0];
        args.dtBias = static_cast<float const*>(inputs[1]);
        args.decayScale = static_cast<float const*>(inputs[2]);
        args.b = in.size() > 3 ? inputs[3] : nullptr;
        args.decay = outputs[0];
        args.beta = out.size() > 1 ? outputs[1] : nullptr;
        return launchLinearAttentionGate(args, stream);
    }

private:
    static std::string shapes(LinearAttentionGateArgs& args, Span<Desc const> in, bool wantsBeta)
    {
        TensorShape const b = in.size() > 3 ? TensorShape::of(in[3].dims) : TensorShape{};
        return linearAttentionGateShapes(args, TensorShape::of(in[0].dims), TensorShape::of(in[1].dims),
            TensorShape::of(in[2].dims), in.size() > 3 ? &b : nullptr, wantsBeta);
    }
};

TRTPLUG_REGISTER_PLUGIN(LinearAttentionGatePlugin);

} // namespace
} // namespace trtplug
