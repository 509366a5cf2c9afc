// TrtplugGatedAdd: the IPluginV3 adapter over launchGatedAdd (spec: plugins/gated_add/spec.toml).
// Inputs X, Y (X's shape) and gate (X's leading dims, then 1), all of one float type; the output has
// X's type and shape. The projected mode's gate_weight is not an input: the rewrite leaves such nodes.
#include "common/bias_activation_plugin.h"
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "gated_add/gated_add.h"
#include "gated_add/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using Glue = glue_gated_add::Glue;

// Identity, input/output counts, fields, defaults and value rules: generated from the spec.
class GatedAddPlugin : public GluePlugin<GatedAddPlugin, Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        checkSameFloatTypes(in, Glue::kInputNames);
        out[0] = in[0];
    }

    //! Ranks here; symbolic dims are checked once known (shapeChanged), constant ones now where the
    //! gate's last dim is not 1.
    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& x = in[0];
        DimsExprs const& gate = in[2];
        TRTPLUG_ENSURE(x.nbDims >= 1, "X must have rank >= 1");
        TRTPLUG_ENSURE(in[1].nbDims == x.nbDims, "Y must have the same shape as X (rank "
                + std::to_string(in[1].nbDims) + ", X's is " + std::to_string(x.nbDims) + ")");
        TRTPLUG_ENSURE(gate.nbDims == x.nbDims, "gate must have the same rank as X (rank "
                + std::to_string(gate.nbDims) + ", X's is " + std::to_string(x.nbDims) + ")");
        auto const* last = gate.d[gate.nbDims - 1];
        TRTPLUG_ENSURE(!last->isConstant() || last->getConstantValue() == 1,
            "gate last dimension must be 1, got " + std::to_string(last->getConstantValue()));
        out[0] = x;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        return supportsSameFloatLinear(pos, inOut);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const
    {
        GatedAddArgs args;
        std::string const problem = shapes(args, in);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        GatedAddArgs args;
        if (!toDType(in[0].type, args.dtype) || !shapes(args, in).empty())
        {
            return cudaErrorInvalidValue;
        }
        args.x = inputs[0];
        args.y = inputs[1];
        args.gate = inputs[2];
        args.out = outputs[0];
        return launchGatedAdd(args, stream);
    }

private:
    static std::string shapes(GatedAddArgs& args, Span<Desc const> in)
    {
        return gatedAddShapes(
            args, TensorShape::of(in[0].dims), TensorShape::of(in[1].dims), TensorShape::of(in[2].dims));
    }
};

TRTPLUG_REGISTER_PLUGIN(GatedAddPlugin);

} // namespace
} // namespace trtplug
