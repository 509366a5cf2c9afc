// TrtplugBertAttention: the IPluginV3 adapter over launchBertAttention (spec:
// plugins/bert_attention/spec.toml). Inputs in spec order up to the last present one; an absent
// one before it is an empty tensor. `num_outputs` says whether it writes present too.
#include "bert_attention/bert_attention.h"
#include "bert_attention/op_glue.h"
#include "common/plugin_base.h"
#include "common/trt_dtype.h"

#include <array>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

constexpr int32_t kMaskIndex = 3;
constexpr int32_t kPast = 4;

class BertAttentionPlugin : public GluePlugin<BertAttentionPlugin, glue_bert_attention::Glue>
{
public:
    using GluePlugin::GluePlugin;

    int32_t nbOutputs() const noexcept { return params().num_outputs; }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloat(in[0]) || in[0] == DataType::kBF16,
            std::string("input must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = in[0];
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& e) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims == 3 && in.size() >= 2 && in[1].nbDims == 2, "input must be 3-D and weights 2-D");
        std::vector<int32_t> const& sizes = params().qkv_hidden_sizes;
        IDimensionExpr const* cols = in[1].d[1];
        IDimensionExpr const* qHidden = sizes.size() == 3
            ? e.constant(sizes[0])
            : e.operation(DimensionOperation::kFLOOR_DIV, *cols, *e.constant(3));
        IDimensionExpr const* vHidden = sizes.size() == 3 ? e.constant(sizes[2]) : qHidden;
        IDimensionExpr const* heads = e.constant(params().num_heads);
        bool const past = kPast < in.size() && in[kPast].nbDims == 5;
        IDimensionExpr const* total = past ? e.operation(DimensionOperation::kSUM, *in[kPast].d[3], *x.d[1]) : x.d[1];
        out[0] = dims({x.d[0], x.d[1], vHidden});
        if (out.size() > 1)
        {
            out[1] = dims({e.constant(2), x.d[0], heads, total,
                e.operation(DimensionOperation::kFLOOR_DIV, *qHidden, *heads)});
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
            return isFloat(d.type) || d.type == DataType::kBF16;
        }
        return pos == kMaskIndex && pos < nbInputs ? d.type == DataType::kINT32 : d.type == inOut[0].desc.type;
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        std::array<Desc, glue_bert_attention::kMaxInputs> descs{};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            descs[i] = in[i].desc;
            descs[i].dims = in[i].max;
        }
        return bertWorkspaceSize(argsOf(Span<Desc const>{descs.data(), in.size()}, nullptr, nullptr), true);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const { argsOf(in, nullptr, nullptr); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        return launchBertAttention(argsOf(in, inputs, outputs), workspace, stream);
    }

private:
    static DimsExprs dims(std::initializer_list<IDimensionExpr const*> d)
    {
        DimsExprs out{};
        for (IDimensionExpr const* x : d)
        {
            out.d[out.nbDims++] = x;
        }
        return out;
    }

    //! The launch arguments of concrete shapes (pointers null when `inputs` is); checks them.
    BertArgs argsOf(Span<Desc const> in, void const* const* inputs, void* const* outputs) const
    {
        BertArgs a;
        TRTPLUG_ENSURE(toDType(in[0].type, a.dtype), "unsupported input type");
        auto given = [&](int32_t i) { return i < in.size() && (i < 2 || volume(in[i].dims) > 0); };
        TensorShape* shapes[] = {&a.shapes.input, &a.shapes.weights, &a.shapes.bias, &a.shapes.maskIndex,
            &a.shapes.past, &a.shapes.attentionBias};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            *shapes[i] = given(i) ? TensorShape::of(in[i].dims) : TensorShape{};
        }
        std::string const problem = bertDims(a.shapes, params().num_heads, params().qkv_hidden_sizes, nbOutputs() > 1, a.dims);
        TRTPLUG_ENSURE(problem.empty(), problem);
        auto input = [&](int32_t i) { return inputs != nullptr && given(i) ? inputs[i] : nullptr; };
        a.input = input(0), a.weights = input(1), a.bias = input(2);
        a.maskIndex = static_cast<int32_t const*>(input(kMaskIndex));
        a.past = input(kPast), a.attentionBias = input(5);
        a.output = outputs != nullptr ? outputs[0] : nullptr;
        a.present = outputs != nullptr && nbOutputs() > 1 ? outputs[1] : nullptr;
        a.scale = params().scale;
        a.maskFilterValue = params().mask_filter_value;
        a.unidirectional = params().unidirectional != 0;
        return a;
    }
};

TRTPLUG_REGISTER_PLUGIN(BertAttentionPlugin);

} // namespace
} // namespace trtplug
