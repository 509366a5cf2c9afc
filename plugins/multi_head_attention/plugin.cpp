// TrtplugMultiHeadAttention: the IPluginV3 adapter over launchMultiHeadAttention (spec:
// plugins/multi_head_attention/spec.toml). Inputs in spec order up to the last present one; an
// absent one before it is an empty tensor. `num_outputs` says how many of output,
// present_key, present_value, qk it writes.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "multi_head_attention/multi_head_attention.h"
#include "multi_head_attention/op_glue.h"

#include <array>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

constexpr int32_t kKeyPadding = 4;
constexpr int32_t kPastKey = 6;

class MultiHeadAttentionPlugin : public GluePlugin<MultiHeadAttentionPlugin, glue_multi_head_attention::Glue>
{
public:
    using GluePlugin::GluePlugin;

    int32_t nbOutputs() const noexcept { return params().num_outputs; }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloat(in[0]) || in[0] == DataType::kBF16,
            std::string("query must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = in[0];
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& e) const
    {
        DimsExprs const& q = in[0];
        int32_t const n = params().num_heads;
        auto rankOf = [&](int32_t i) { return i < in.size() ? in[i].nbDims : 0; };
        auto div = [&](IDimensionExpr const* x) {
            return e.operation(DimensionOperation::kFLOOR_DIV, *x, *e.constant(n));
        };
        TRTPLUG_ENSURE(q.nbDims == 5 || (q.nbDims == 3 && rankOf(1) >= 3), "query must be 3-D with key, or packed QKV");
        IDimensionExpr const* head = q.nbDims == 5 ? q.d[4] : div(q.d[2]);
        IDimensionExpr const* kvLen = q.d[1];
        IDimensionExpr const* vHead = head;
        if (q.nbDims == 3)
        {
            DimsExprs const& k = in[1];
            kvLen = k.nbDims == 4 ? k.d[2] : k.d[1];
            vHead = k.nbDims == 5 ? head : k.nbDims == 4 ? in[2].d[3] : div(in[2].d[2]);
        }
        IDimensionExpr const* total
            = rankOf(kPastKey) == 4 ? e.operation(DimensionOperation::kSUM, *in[kPastKey].d[2], *kvLen) : kvLen;
        IDimensionExpr const* heads = e.constant(n);
        std::array<DimsExprs, 4> const shapes{
            dims({q.d[0], q.d[1], e.operation(DimensionOperation::kPROD, *heads, *vHead)}),
            dims({q.d[0], heads, total, head}), dims({q.d[0], heads, total, vHead}),
            dims({q.d[0], heads, q.d[1], total})};
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = shapes[i];
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
        return pos == kKeyPadding && pos < nbInputs ? d.type == DataType::kINT32 : d.type == inOut[0].desc.type;
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        std::array<Desc, glue_multi_head_attention::kMaxInputs> descs{};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            descs[i] = in[i].desc;
            descs[i].dims = in[i].max;
        }
        return mhaWorkspaceSize(argsOf(Span<Desc const>{descs.data(), in.size()}, nullptr, nullptr), true);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const { argsOf(in, nullptr, nullptr); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        return launchMultiHeadAttention(argsOf(in, inputs, outputs), workspace, stream);
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
    MhaArgs argsOf(Span<Desc const> in, void const* const* inputs, void* const* outputs) const
    {
        MhaArgs a;
        TRTPLUG_ENSURE(toDType(in[0].type, a.dtype), "unsupported query type");
        // key/value placeholders are 1-D; other absent inputs are empty tensors.
        auto given = [&](int32_t i) {
            return i < in.size() && (i == 0 || (i < 3 ? in[i].dims.nbDims >= 3 : volume(in[i].dims) > 0));
        };
        TensorShape* shapes[] = {&a.shapes.query, &a.shapes.key, &a.shapes.value, &a.shapes.bias,
            &a.shapes.keyPadding, &a.shapes.attentionBias, &a.shapes.pastKey, &a.shapes.pastValue};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            *shapes[i] = given(i) ? TensorShape::of(in[i].dims) : TensorShape{};
        }
        std::string const problem = mhaDims(a.shapes, params().num_heads, a.dims);
        TRTPLUG_ENSURE(problem.empty(), problem);
        auto input = [&](int32_t i) { return inputs != nullptr && given(i) ? inputs[i] : nullptr; };
        auto output = [&](int32_t i) { return outputs != nullptr && i < nbOutputs() ? outputs[i] : nullptr; };
        a.query = input(0), a.key = input(1), a.value = input(2), a.bias = input(3);
        a.keyPadding = static_cast<int32_t const*>(input(kKeyPadding));
        a.attentionBias = input(5), a.pastKey = input(kPastKey), a.pastValue = input(kPastKey + 1);
        a.output = output(0), a.presentKey = output(1), a.presentValue = output(2), a.qk = output(3);
        a.scale = params().scale;
        a.maskFilterValue = params().mask_filter_value;
        a.unidirectional = params().unidirectional != 0;
        return a;
    }
};

TRTPLUG_REGISTER_PLUGIN(MultiHeadAttentionPlugin);

} // namespace
} // namespace trtplug
