// TrtplugGroupQueryAttention: the IPluginV3 adapter over launchGroupQueryAttention (spec:
// plugins/group_query_attention/spec.toml). total_sequence_length is a shape input: present_key /
// present_value have max(past rows, its value) rows (with sliding_window_cache = 1 the past's rows,
// the windowed buffer's capacity). Shape inputs never reach enqueue, so it comes
// again as the last regular input (the spec's data_copy), which the kernels read for the
// first-prompt test. Regular inputs: query, key, value, past_key, past_value, seqlens_k, cos_cache,
// sin_cache, position_ids, attention_bias, head_sink, k_scale, v_scale (absent ones 1-D empty or
// left off the end), then the copy. kv_cache_bit_width = 8: past/present int8, scales float32.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "group_query_attention/gqa_shapes.h"
#include "group_query_attention/op_glue.h"

#include <array>
#include <vector>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

constexpr int32_t kSpecInputs = 13; //!< regular inputs before the total_sequence_length copy
constexpr int32_t kPastKey = 3;
constexpr int32_t kPastValue = 4;
constexpr int32_t kSeqlens = 5;
constexpr int32_t kPositionIds = 8;
constexpr int32_t kKScale = 11;
constexpr int32_t kVScale = 12;

bool isAttentionFloat(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

class GroupQueryAttentionPlugin : public GluePlugin<GroupQueryAttentionPlugin, glue_group_query_attention::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isAttentionFloat(in[0]), std::string("query must be float32, float16 or bfloat16, got ")
                + trtTypeName(in[0]));
        out[0] = in[0];
        for (int32_t o = 1; o < static_cast<int32_t>(out.size()); ++o)
        {
            out[o] = cacheType(in[0]);
        }
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(in[0].nbDims == 3, "query must be [batch, sequence, hidden]");
        TRTPLUG_ENSURE(shapeIn.size() == 1, "expected the shape input total_sequence_length "
                "(tensorrt_plugin_shape_input_indices)");
        bool const packed = regularCount(in.size()) < 2 || in[1].nbDims != 3;
        int32_t const heads = params().num_heads + (packed ? 2 * params().kv_num_heads : 0);
        IDimensionExpr const* head = expr.operation(DimensionOperation::kFLOOR_DIV, *in[0].d[2], *expr.constant(heads));
        out[0].nbDims = 3;
        out[0].d[0] = in[0].d[0];
        out[0].d[1] = in[0].d[1];
        out[0].d[2] = expr.operation(DimensionOperation::kPROD, *head, *expr.constant(params().num_heads));
        bool const hasPast = regularCount(in.size()) > 3 && in[3].nbDims == 4;
        bool const windowed = params().sliding_window_cache != 0;
        TRTPLUG_ENSURE(
            hasPast || !windowed, "sliding_window_cache = 1 needs past_key and past_value (the windowed buffer)");
        IDimensionExpr const* past = hasPast ? in[3].d[2] : expr.constant(0);
        // A 0-D scalar may reach us without a value expression: then total = past + S (no shared buffer).
        IDimensionExpr const* total = shapeIn[0].nbDims >= 1
            ? shapeIn[0].d[0]
            : expr.operation(DimensionOperation::kSUM, *past, *in[0].d[1]);
        for (int32_t o = 1; o < 3; ++o)
        {
            out[o].nbDims = 4;
            out[o].d[0] = in[0].d[0];
            out[o].d[1] = expr.constant(params().kv_num_heads);
            out[o].d[2] = windowed ? past : expr.operation(DimensionOperation::kMAX, *past, *total);
            out[o].d[3] = head;
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
            return isAttentionFloat(d.type);
        }
        if (pos == nbInputs - 1 || pos == kSeqlens)
        {
            return d.type == DataType::kINT32; // the total_sequence_length copy, seqlens_k
        }
        DataType const t = inOut[0].desc.type;
        bool const cache = pos == kPastKey || pos == kPastValue || pos == nbInputs + 1 || pos == nbInputs + 2;
        if (pos < nbInputs && (pos == kKScale || pos == kVScale))
        {
            return d.type == DataType::kFLOAT;
        }
        return d.type == (pos == kPositionIds && pos < nbInputs ? DataType::kINT64 : cache ? cacheType(t) : t);
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const> out) const
    {
        std::vector<Desc> const inMax = atMax(in);
        std::vector<Desc> const outMax = atMax(out);
        return gqaWorkspaceSize(args(Span<Desc const>{inMax.data(), static_cast<int32_t>(inMax.size())},
            Span<Desc const>{outMax.data(), static_cast<int32_t>(outMax.size())}, nullptr, nullptr));
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out) { args(in, out, nullptr, nullptr); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        return launchGroupQueryAttention(args(in, out, inputs, outputs), workspace, stream);
    }

private:
    //! The caches' type: int8 codes with kv_cache_bit_width = 8, else the run dtype.
    DataType cacheType(DataType run) const noexcept { return params().kv_cache_bit_width == 8 ? DataType::kINT8 : run; }

    static int32_t regularCount(size_t nbInputs) noexcept { return static_cast<int32_t>(nbInputs) - 1; }

    //! The launch arguments of concrete shapes (and pointers, when given).
    GqaArgs args(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs) const
    {
        int32_t const regular = regularCount(in.size());
        TRTPLUG_ENSURE(regular >= kSeqlens + 1 && regular <= kSpecInputs, "unexpected input count");
        std::array<GqaShape, kSpecInputs> dims{};
        std::array<GqaShape const*, kSpecInputs> shape{};
        std::array<void const*, kSpecInputs> data{};
        for (int32_t i = 0; i < regular; ++i)
        {
            dims[i].assign(in[i].dims.d, in[i].dims.d + in[i].dims.nbDims);
            bool const standIn = in[i].dims.nbDims == 1 && in[i].dims.d[0] == 0; // an absent input's empty stand-in
            shape[i] = standIn && i != 0 && i != kSeqlens ? nullptr : &dims[i];
            data[i] = inputs == nullptr || shape[i] == nullptr ? nullptr : inputs[i];
        }
        GqaShapes s{shape[0], shape[1], shape[2], shape[3], shape[4], shape[5], shape[6], shape[7], shape[8], shape[9],
            shape[10], out[1].dims.nbDims == 4 ? out[1].dims.d[2] : -1, shape[kKScale], shape[kVScale]};
        GqaArgs a{};
        TRTPLUG_ENSURE(toDType(in[0].type, a.dtype), "query must be float32, float16 or bfloat16");
        std::string const problem = setGqaShapes(a, s, params());
        TRTPLUG_ENSURE(problem.empty(), problem);
        a.query = data[0];
        a.key = data[1];
        a.value = data[2];
        a.pastKey = data[3];
        a.pastValue = data[4];
        a.seqlensK = static_cast<int32_t const*>(data[5]);
        a.totalSeqLen = inputs == nullptr ? nullptr : static_cast<int32_t const*>(inputs[regular]);
        a.cosCache = data[6];
        a.sinCache = data[7];
        a.positionIds = static_cast<int64_t const*>(data[8]);
        a.bias = data[9];
        a.headSink = data[10];
        a.kScale = static_cast<float const*>(data[kKScale]);
        a.vScale = static_cast<float const*>(data[kVScale]);
        if (outputs != nullptr)
        {
            a.output = outputs[0];
            a.presentKey = outputs[1];
            a.presentValue = outputs[2];
        }
        char const* error = gqaArgsError(a);
        TRTPLUG_ENSURE(error == nullptr, error == nullptr ? "" : error);
        return a;
    }

    //! The descriptors at the profile's maximum shapes (the workspace covers every shape up to them).
    static std::vector<Desc> atMax(Span<DynDesc const> descs)
    {
        std::vector<Desc> out;
        for (DynDesc const& d : descs)
        {
            out.push_back(d.desc);
            out.back().dims = d.max;
        }
        return out;
    }
};

TRTPLUG_REGISTER_PLUGIN(GroupQueryAttentionPlugin);

} // namespace
} // namespace trtplug
