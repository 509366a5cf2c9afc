// TrtplugLinearAttention: the IPluginV3 adapter over launchLinearAttention (spec: plugins/linear_attention/spec.toml).
// Inputs query, key, value, then the optional past_state, decay, beta (an absent one before a present one is
// the rewrite's 1-D empty stand-in; trailing absent ones are left off). present_state takes past_state's type
// (query's when there is no past_state), as ONNX Runtime's type S binds.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "linear_attention/linear_attention.h"
#include "linear_attention/op_glue.h"

#include <array>
#include <string>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;

enum Input : int32_t
{
    kQuery = 0,
    kKey,
    kValue,
    kPast,
    kDecay,
    kBeta,
    kSpecInputs
};

bool isSupported(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

bool isStandIn(nvinfer1::Dims const& d) noexcept
{
    return d.nbDims == 1 && d.d[0] == 0;
}

class LinearAttentionPlugin : public GluePlugin<LinearAttentionPlugin, glue_linear_attention::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[kQuery]), std::string("query: unsupported type ") + trtTypeName(in[kQuery]));
        out[0] = in[kQuery];
        out[1] = in.size() > kPast ? in[kPast] : in[kQuery];
        TRTPLUG_ENSURE(isSupported(out[1]), std::string("past_state: unsupported type ") + trtTypeName(out[1]));
    }

    //! output [B, T, max(Hq, Hkv) * dv], present_state [B, Hkv, dk, dv], dk = query width / Hq, dv = value width / Hkv.
    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(in[kQuery].nbDims == 3 && in[kValue].nbDims == 3, "query and value must be [B, T, heads * d]");
        int32_t const hq = params().q_num_heads;
        int32_t const hkv = params().kv_num_heads;
        auto const* dk = expr.operation(DimensionOperation::kFLOOR_DIV, *in[kQuery].d[2], *expr.constant(hq));
        auto const* dv = expr.operation(DimensionOperation::kFLOOR_DIV, *in[kValue].d[2], *expr.constant(hkv));
        out[0].nbDims = 3;
        out[0].d[0] = in[kQuery].d[0];
        out[0].d[1] = in[kQuery].d[1];
        out[0].d[2] = expr.operation(DimensionOperation::kPROD, *dv, *expr.constant(hq > hkv ? hq : hkv));
        out[1].nbDims = 4;
        out[1].d[0] = in[kQuery].d[0];
        out[1].d[1] = expr.constant(hkv);
        out[1].d[2] = dk;
        out[1].d[3] = dv;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        DataType const stateType = nbInputs > kPast ? inOut[kPast].desc.type : inOut[kQuery].desc.type;
        // Absent optional inputs shift the outputs down: index them from the spec's input count.
        switch (pos < nbInputs ? pos : kSpecInputs + pos - nbInputs)
        {
        case kQuery: return isSupported(d.type);
        case kPast: return isSupported(d.type);
        case kSpecInputs: return d.type == inOut[kQuery].desc.type; // output
        case kSpecInputs + 1: return d.type == stateType;           // present_state
        default: return d.type == inOut[kQuery].desc.type;          // key, value, decay, beta
        }
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs,
        void* const* outputs, void*, cudaStream_t stream) const
    {
        std::array<TensorShape, kSpecInputs> shapes{};
        std::array<TensorShape const*, kSpecInputs> present{};
        std::array<void const*, kSpecInputs> data{};
        for (size_t i = 0; i < in.size() && i < size_t{kSpecInputs}; ++i)
        {
            shapes[i] = TensorShape::of(in[i].dims);
            bool const absent = i >= size_t{kPast} && isStandIn(in[i].dims);
            present[i] = absent ? nullptr : &shapes[i];
            data[i] = absent ? nullptr : inputs[i];
        }
        LinearAttentionGeometry g;
        std::string const problem = linearAttentionGeometry(params(), shapes[kQuery], shapes[kKey], shapes[kValue],
            present[kPast], present[kDecay], present[kBeta], g);
        TRTPLUG_ENSURE(problem.empty(), problem);
        DType dtype{};
        DType stateType{};
        if (!toDType(in[kQuery].type, dtype) || !toDType(out[1].type, stateType))
        {
            return cudaErrorInvalidValue;
        }
        return launchLinearAttention(dtype, stateType, g, data[kQuery], data[kKey], data[kValue], data[kPast],
            data[kDecay], data[kBeta], outputs[0], outputs[1], stream);
    }
};

TRTPLUG_REGISTER_PLUGIN(LinearAttentionPlugin);

} // namespace
} // namespace trtplug
