// TrtplugGatedRMSNorm: the IPluginV3 adapter over launchGatedRmsNorm (spec: plugins/gated_rms_norm/spec.toml).
// Inputs X (rank >= 1), scale (C elements, X's last dim a multiple of C) and gate (X's shape); Y is X's shape.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "gated_rms_norm/gated_rms_norm.h"
#include "gated_rms_norm/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

// Identity, input/output counts, fields, defaults and value rules: generated from the spec.
class GatedRmsNormPlugin : public GluePlugin<GatedRmsNormPlugin, glue_gated_rms_norm::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == in[0] && in[2] == in[0], "scale and gate must have X's type");
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        TRTPLUG_ENSURE(in[0].nbDims >= 1, "X must have rank >= 1");
        out[0] = in[0];
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type; // scale, gate, Y follow X
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const
    {
        int64_t rows = 0;
        int64_t cols = 0;
        std::string const problem = gatedRmsNormRows(
            TensorShape::of(in[0].dims), TensorShape::of(in[1].dims), TensorShape::of(in[2].dims), rows, cols);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        return launchGatedRmsNorm(dtype, params(), inputs[0], TensorShape::of(in[0].dims), inputs[1],
            TensorShape::of(in[1].dims), inputs[2], TensorShape::of(in[2].dims), outputs[0], stream);
    }
};

TRTPLUG_REGISTER_PLUGIN(GatedRmsNormPlugin);

} // namespace
} // namespace trtplug
