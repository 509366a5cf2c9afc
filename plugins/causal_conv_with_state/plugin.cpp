// TrtplugCausalConvWithState: the IPluginV3 adapter over launchCausalConvWithState
// (spec: plugins/causal_conv_with_state/spec.toml). Inputs input, weight[, bias][, past_state]: an
// absent bias before a present past_state is the rewrite's empty placeholder, and an empty tensor
// counts as absent. Outputs output (input's shape) and present_state ((B, C, (k - 1) * dilation),
// or (B, (k - 1) * dilation, d1..dn) channels-last).
#include "causal_conv_with_state/causal_conv_with_state.h"
#include "causal_conv_with_state/op_glue.h"
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"

#include <string>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

//! Input i's shape, or null when the plugin has no such input.
TensorShape const* shapeOrNull(Span<nvinfer1::PluginTensorDesc const> in, int32_t i, TensorShape& storage)
{
    if (i >= in.size())
    {
        return nullptr;
    }
    storage = TensorShape::of(in[i].dims);
    return &storage;
}

//! Input i's data, or null when it is absent or empty.
void const* dataOrNull(Span<nvinfer1::PluginTensorDesc const> in, void const* const* inputs, int32_t i)
{
    return i < in.size() && volume(in[i].dims) != 0 ? inputs[i] : nullptr;
}

class CausalConvWithStatePlugin : public GluePlugin<CausalConvWithStatePlugin, glue_causal_conv_with_state::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]), std::string("input: unsupported type ") + trtTypeName(in[0]));
        for (int32_t i = 1; i < in.size(); ++i)
        {
            TRTPLUG_ENSURE(in[i] == in[0], std::string("every input must have input's type ") + trtTypeName(in[0]));
        }
        out[0] = in[0];
        out[1] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        DimsExprs const& w = in[1];
        bool const channelsLast = params().channels_last != 0;
        TRTPLUG_ENSURE(channelsLast ? x.nbDims >= 3 : x.nbDims == 3,
            channelsLast ? "input must be (batch, length, d1, ..., dn)" : "input must be (batch, channels, length)");
        TRTPLUG_ENSURE(w.nbDims == 3, "weight must be (channels, 1, k)");
        out[0] = x;
        // S = (k - 1) * dilation replaces the position axis.
        auto const* taps = expr.operation(nvinfer1::DimensionOperation::kSUB, *w.d[2], *expr.constant(1));
        auto const* state = expr.operation(nvinfer1::DimensionOperation::kPROD, *taps, *expr.constant(params().dilation));
        out[1] = x;
        out[1].d[channelsLast ? 1 : 2] = state;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const
    {
        CausalConvGeometry g;
        std::string const problem = geometry(in, g);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        CausalConvGeometry g;
        if (!toDType(in[0].type, dtype) || !geometry(in, g).empty())
        {
            return cudaErrorInvalidValue;
        }
        return launchCausalConvWithState(dtype, params(), g, inputs[0], inputs[1], dataOrNull(in, inputs, 2),
            dataOrNull(in, inputs, 3), outputs[0], outputs[1], stream);
    }

private:
    std::string geometry(Span<Desc const> in, CausalConvGeometry& g) const
    {
        TensorShape bias;
        TensorShape past;
        return causalConvGeometry(params(), TensorShape::of(in[0].dims), TensorShape::of(in[1].dims),
            shapeOrNull(in, 2, bias), shapeOrNull(in, 3, past), g);
    }
};

TRTPLUG_REGISTER_PLUGIN(CausalConvWithStatePlugin);

} // namespace
} // namespace trtplug
