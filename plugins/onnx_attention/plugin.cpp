// TrtplugOnnxAttention: the IPluginV3 adapter over launchOnnxAttention (spec:
// plugins/onnx_attention/spec.toml). Inputs Q, K, V, then attn_mask, past_key, past_value,
// nonpad_kv_seqlen when present (an absent one before a present one is an empty tensor); the
// `num_outputs` field says how many of Y, present_key, present_value, qk_matmul_output it writes.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "onnx_attention/onnx_attention.h"
#include "onnx_attention/op_glue.h"

#include <array>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

constexpr int32_t kMask = 3;
constexpr int32_t kPastKey = 4;
constexpr int32_t kNonpad = 6;

class OnnxAttentionPlugin : public GluePlugin<OnnxAttentionPlugin, glue_onnx_attention::Glue>
{
public:
    using GluePlugin::GluePlugin;

    int32_t nbOutputs() const noexcept { return params().num_outputs; }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloat(in[0]) || in[0] == DataType::kBF16,
            std::string("Q must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = in[0];
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& e) const
    {
        DimsExprs const& q = in[0];
        DimsExprs const& k = in[1];
        DimsExprs const& v = in[2];
        int32_t const rank = q.nbDims;
        TRTPLUG_ENSURE((rank == 3 || rank == 4) && k.nbDims == rank && v.nbDims == rank,
            "Q, K and V must all be 3-D or all 4-D");
        TRTPLUG_ENSURE(rank == 4 || (params().q_num_heads > 0 && params().kv_num_heads > 0),
            "3-D inputs need the q_num_heads and kv_num_heads fields");
        auto div = [&](IDimensionExpr const* x, int32_t by) {
            return e.operation(DimensionOperation::kFLOOR_DIV, *x, *e.constant(by));
        };
        IDimensionExpr const* qHeads = rank == 4 ? q.d[1] : e.constant(params().q_num_heads);
        IDimensionExpr const* kvHeads = rank == 4 ? k.d[1] : e.constant(params().kv_num_heads);
        IDimensionExpr const* qLen = q.d[rank - 2];
        IDimensionExpr const* head = rank == 4 ? k.d[3] : div(k.d[2], params().kv_num_heads);
        IDimensionExpr const* vHead = rank == 4 ? v.d[3] : div(v.d[2], params().kv_num_heads);
        bool const past = in.size() > kPastKey && in[kPastKey].nbDims == 4;
        IDimensionExpr const* total = past
            ? e.operation(DimensionOperation::kSUM, *in[kPastKey].d[2], *k.d[rank - 2])
            : k.d[rank - 2];
        std::array<DimsExprs, 4> shapes{};
        shapes[0] = rank == 4 ? dims({q.d[0], qHeads, qLen, vHead})
                              : dims({q.d[0], qLen, e.operation(DimensionOperation::kPROD, *qHeads, *vHead)});
        shapes[1] = dims({q.d[0], kvHeads, total, head});
        shapes[2] = dims({q.d[0], kvHeads, total, vHead});
        shapes[3] = dims({q.d[0], qHeads, qLen, total});
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = shapes[i];
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        DataType const t = inOut[0].desc.type;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        if (pos == 0)
        {
            return isFloat(d.type) || d.type == DataType::kBF16;
        }
        if (pos == kMask && pos < nbInputs)
        {
            return d.type == DataType::kBOOL || d.type == DataType::kFLOAT || d.type == t;
        }
        return pos == kNonpad && pos < nbInputs ? d.type == DataType::kINT64 : d.type == t;
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        std::array<Desc, glue_onnx_attention::kMaxInputs> descs{};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            descs[i] = in[i].desc;
            descs[i].dims = in[i].max;
        }
        OnnxAttentionArgs const a = argsOf(Span<Desc const>{descs.data(), in.size()}, nullptr, nullptr);
        return onnxAttentionWorkspaceSize(a);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const { argsOf(in, nullptr, nullptr); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        return launchOnnxAttention(argsOf(in, inputs, outputs), workspace, stream);
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
    OnnxAttentionArgs argsOf(Span<Desc const> in, void const* const* inputs, void* const* outputs) const
    {
        OnnxAttentionArgs a;
        TRTPLUG_ENSURE(toDType(in[0].type, a.dtype), "unsupported Q type");
        auto given = [&](int32_t i) { return i < in.size() && volume(in[i].dims) > 0; };
        TensorShape* shapes[] = {&a.shapes.q, &a.shapes.k, &a.shapes.v, &a.shapes.mask, &a.shapes.pastKey,
            &a.shapes.pastValue, &a.shapes.nonpad};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            *shapes[i] = i < 3 || given(i) ? TensorShape::of(in[i].dims) : TensorShape{};
        }
        std::string const problem = onnxAttentionDims(a.shapes, params().q_num_heads, params().kv_num_heads, a.dims);
        TRTPLUG_ENSURE(problem.empty(), problem);
        if (given(kMask))
        {
            TRTPLUG_ENSURE(toDType(in[kMask].type, a.maskType), "unsupported attn_mask type");
        }
        auto input = [&](int32_t i) { return inputs != nullptr && given(i) ? inputs[i] : nullptr; };
        auto output = [&](int32_t i) { return outputs != nullptr && i < nbOutputs() ? outputs[i] : nullptr; };
        a.q = input(0), a.k = input(1), a.v = input(2), a.mask = input(kMask);
        a.pastKey = input(kPastKey), a.pastValue = input(kPastKey + 1);
        a.nonpad = static_cast<int64_t const*>(input(kNonpad));
        a.y = output(0), a.presentKey = output(1), a.presentValue = output(2), a.qk = output(3);
        a.qkMode = params().qk_matmul_output_mode;
        a.scale = params().scale;
        a.softcap = params().softcap;
        a.causal = params().is_causal != 0;
        return a;
    }
};

TRTPLUG_REGISTER_PLUGIN(OnnxAttentionPlugin);

} // namespace
} // namespace trtplug
