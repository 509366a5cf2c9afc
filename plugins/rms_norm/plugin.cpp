// TrtplugSimplifiedLayerNorm and TrtplugRMSNormalization: one IPluginV3 adapter over
// launchRmsNorm, instantiated per member's glue (spec: plugins/rms_norm/spec.toml).
// Inputs X (rank >= 1) and scale (X.shape[axis:] elements, leading 1s allowed); outputs Y and,
// when the node uses it, inv_std_var (float32, X's shape with the axes from `axis` set to 1).
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "rms_norm/members.h"

#include <string>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

bool isFloatOrBf16(DataType t) noexcept
{
    return isFloat(t) || t == DataType::kBF16;
}

//! X's first normalized axis (axis counted from the end when negative); throws when out of range.
int32_t firstNormalizedAxis(int64_t axis, int32_t rank)
{
    TRTPLUG_ENSURE(rank >= 1 && axis >= -rank && axis < rank,
        "axis " + std::to_string(axis) + " is out of range for X of rank " + std::to_string(rank));
    return static_cast<int32_t>(axis < 0 ? axis + rank : axis);
}

template <class Glue>
class RmsNormPlugin : public GluePlugin<RmsNormPlugin<Glue>, Glue>
{
    using Base = GluePlugin<RmsNormPlugin<Glue>, Glue>;

public:
    using Base::Base;
    using typename Base::Desc;
    using typename Base::DimsExprs;
    using typename Base::DynDesc;

    int32_t nbOutputs() const noexcept { return usedOutputs(this->params()); }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == in[0], std::string("scale must have X's type ") + trtTypeName(in[0]) + ", got "
                + trtTypeName(in[1]));
        out[0] = in[0];
        if (out.size() > 1)
        {
            out[1] = DataType::kFLOAT;
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        int32_t const first = firstNormalizedAxis(this->params().axis, x.nbDims);
        out[0] = x;
        if (out.size() > 1)
        {
            out[1] = x;
            for (int32_t i = first; i < x.nbDims; ++i)
            {
                out[1].d[i] = expr.constant(1); // per-row statistics
            }
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        if (pos == 0)
        {
            return isFloatOrBf16(d.type);
        }
        return pos - nbInputs == 1 ? d.type == DataType::kFLOAT : d.type == inOut[0].desc.type;
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const>) { checkScale(in[0].desc.dims, in[1].desc.dims); }
    void shapeChanged(Span<Desc const> in, Span<Desc const>) { checkScale(in[0].dims, in[1].dims); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        RmsNormArgs a;
        nvinfer1::Dims const& x = in[0].dims;
        if (!toDType(in[0].type, a.dtype) || !flattenAtAxis(x.d, x.nbDims, this->params().axis, a.rows, a.cols))
        {
            return cudaErrorInvalidValue;
        }
        a.x = inputs[0];
        a.scale = inputs[1];
        a.y = outputs[0];
        a.invStdVar = nbOutputs() > 1 ? static_cast<float*>(outputs[1]) : nullptr;
        a.epsilon = this->params().epsilon;
        return launchRmsNorm(a, stream);
    }

private:
    //! scale holds one value per normalized element: X.shape[axis:], after any leading 1s.
    void checkScale(nvinfer1::Dims const& x, nvinfer1::Dims const& scale) const
    {
        int32_t const first = firstNormalizedAxis(this->params().axis, x.nbDims);
        int32_t const normalized = x.nbDims - first;
        bool ok = scale.nbDims >= normalized;
        for (int32_t i = 0; ok && i < scale.nbDims; ++i)
        {
            int32_t const xAxis = x.nbDims - scale.nbDims + i;
            int64_t const want = xAxis >= first ? x.d[xAxis] : 1;
            ok = scale.d[i] < 0 || want < 0 || scale.d[i] == want;
        }
        TRTPLUG_ENSURE(ok, "scale must have X's " + std::to_string(normalized) + " normalized dims (axis "
                + std::to_string(this->params().axis) + "), after any leading 1s");
    }
};

using SimplifiedLayerNormPlugin = RmsNormPlugin<glue_simplified_layer_norm::Glue>;
using RmsNormalizationPlugin = RmsNormPlugin<glue_rms_normalization::Glue>;
TRTPLUG_REGISTER_PLUGIN(SimplifiedLayerNormPlugin);
TRTPLUG_REGISTER_PLUGIN(RmsNormalizationPlugin);

} // namespace
} // namespace trtplug
