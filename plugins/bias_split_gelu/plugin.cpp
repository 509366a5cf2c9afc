// TrtplugBiasSplitGelu: the IPluginV3 adapter over launchBiasSplitGelu (spec:
// plugins/bias_split_gelu/spec.toml). Inputs X (rank >= 1, even last dimension D) and bias (1-D,
// length D); Y has X's shape with the last dimension D/2, and X's type.
#include "bias_split_gelu/bias_split_gelu.h"
#include "bias_split_gelu/op_glue.h"
#include "common/bias_activation_plugin.h"

namespace trtplug
{
namespace
{

constexpr auto& kNames = glue_bias_split_gelu::kInputNames; // X, bias

//! Concrete dims (-1: not yet known): X rank >= 1 with an even last dimension, bias matching it.
void checkDims(nvinfer1::Dims const& x, nvinfer1::Dims const& bias)
{
    checkBiasDims(x, &bias, kNames);
    int64_t const last = x.d[x.nbDims - 1];
    TRTPLUG_ENSURE(last < 0 || last % 2 == 0, "X's last dimension must be even, got " + std::to_string(last));
}

class BiasSplitGeluPlugin : public GluePlugin<BiasSplitGeluPlugin, glue_bias_split_gelu::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        checkSameFloatTypes(in, kNames);
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims >= 1, "X must have rank >= 1, got rank " + std::to_string(x.nbDims));
        checkBiasExpr(x, in[1], kNames);
        auto const* last = x.d[x.nbDims - 1];
        TRTPLUG_ENSURE(!last->isConstant() || last->getConstantValue() % 2 == 0,
            "X's last dimension must be even, got " + std::to_string(last->getConstantValue()));
        out[0] = x;
        out[0].d[x.nbDims - 1] = expr.operation(nvinfer1::DimensionOperation::kFLOOR_DIV, *last, *expr.constant(2));
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        return supportsSameFloatLinear(pos, inOut);
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const> out)
    {
        checkDims(in[0].desc.dims, in[1].desc.dims);
        checkTypes(in[0].desc.type, in[1].desc.type, out[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        checkDims(in[0].dims, in[1].dims);
        checkTypes(in[0].type, in[1].type, out[0].type);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        int64_t const width = in[0].dims.d[in[0].dims.nbDims - 1];
        int64_t const rows = width == 0 ? 0 : volume(in[0].dims) / width;
        return launchBiasSplitGelu(dtype, inputs[0], inputs[1], outputs[0], rows, width, stream);
    }

private:
    static void checkTypes(DataType x, DataType bias, DataType y)
    {
        DataType const types[2] = {x, bias};
        checkSameFloatTypes(Span<DataType const>{types, 2}, kNames);
        TRTPLUG_ENSURE(y == x, "Y must have X's type");
    }
};

TRTPLUG_REGISTER_PLUGIN(BiasSplitGeluPlugin);

} // namespace
} // namespace trtplug
