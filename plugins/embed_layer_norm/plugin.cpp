// TrtplugEmbedLayerNorm: the IPluginV3 adapter over launchEmbedLayerNorm (spec:
// plugins/embed_layer_norm/spec.toml). Inputs in the ONNX op's order: input_ids, segment_ids?,
// word_embedding, position_embedding, segment_embedding?, gamma, beta, mask?, position_ids?.
// Trailing absent inputs are left out; an absent input before a present one arrives as an
// empty tensor (zero elements) and is treated as absent. Outputs, as many as `num_outputs`
// says: output (batch, seq, hidden), mask_index (batch) int32, embedding_sum.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "embed_layer_norm/embed_layer_norm.h"
#include "embed_layer_norm/op_glue.h"

#include <iterator>
#include <string>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

enum Input : int32_t
{
    kIds = 0,
    kSegmentIds,
    kWord,
    kPosition,
    kSegment,
    kGamma,
    kBeta,
    kMask,
    kPositionIds,
    kInputCount
};
using glue_embed_layer_norm::kInputNames; // the spec's input names, in this order
static_assert(std::size(kInputNames) == kInputCount, "the enum follows the spec's inputs");

bool isIndex(int32_t i) noexcept
{
    return i == kIds || i == kSegmentIds || i == kMask || i == kPositionIds;
}

std::string dimsText(nvinfer1::Dims const& d)
{
    std::string s = "(";
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        s += (i ? ", " : "") + std::to_string(d.d[i]);
    }
    return s + ")";
}

//! a == b, or either not known yet (-1).
bool agree(int64_t a, int64_t b) noexcept
{
    return a < 0 || b < 0 || a == b;
}

bool present(nvinfer1::Dims const* dims, int32_t count, int32_t i) noexcept
{
    return i < count && volume(dims[i]) != 0;
}

void checkDims(nvinfer1::Dims const* d, int32_t count)
{
    auto fail = [&](int32_t i, char const* rule) {
        return std::string(kInputNames[i]) + " " + rule + ", got " + dimsText(d[i]);
    };
    nvinfer1::Dims const& ids = d[kIds];
    TRTPLUG_ENSURE(ids.nbDims == 2, fail(kIds, "must be 2-D (batch, sequence)"));
    int64_t const hidden = d[kWord].nbDims == 2 ? d[kWord].d[1] : -1;
    TRTPLUG_ENSURE(d[kWord].nbDims == 2 && hidden != 0, fail(kWord, "must be 2-D (vocabulary, hidden >= 1)"));
    for (int32_t i : {kPosition, kSegment})
    {
        TRTPLUG_ENSURE(!present(d, count, i) || (d[i].nbDims == 2 && agree(d[i].d[1], hidden)),
            fail(i, "must be 2-D with word_embedding's hidden size"));
    }
    for (int32_t i : {kGamma, kBeta})
    {
        TRTPLUG_ENSURE(d[i].nbDims == 1 && agree(d[i].d[0], hidden), fail(i, "must be 1-D of the hidden size"));
    }
    for (int32_t i : {kSegmentIds, kMask, kPositionIds})
    {
        bool const broadcast = i == kPositionIds && d[i].nbDims == 2 && d[i].d[0] == 1;
        bool const ok = d[i].nbDims == 2 && (broadcast || agree(d[i].d[0], ids.d[0])) && agree(d[i].d[1], ids.d[1]);
        TRTPLUG_ENSURE(!present(d, count, i) || ok, fail(i, "must have input_ids' shape"));
    }
    TRTPLUG_ENSURE(!present(d, count, kSegmentIds) || present(d, count, kSegment),
        "segment_ids needs segment_embedding");
}

void checkTypes(DataType const* t, int32_t count)
{
    for (int32_t i = 0; i < count; ++i)
    {
        bool const ok = isIndex(i) ? t[i] == DataType::kINT32
                                   : (i == kWord ? isFloatOrBf16(t[i]) : t[i] == t[kWord]);
        char const* const wanted
            = isIndex(i) ? "int32" : (i == kWord ? "float32, float16 or bfloat16" : "word_embedding's type");
        TRTPLUG_ENSURE(ok, std::string(kInputNames[i]) + " must be " + wanted + ", got " + trtTypeName(t[i]));
    }
}

// Identity, counts, fields and their value rules (mask_index_type, num_outputs): generated from the spec.
class EmbedLayerNormPlugin : public GluePlugin<EmbedLayerNormPlugin, glue_embed_layer_norm::Glue>
{
public:
    using GluePlugin::GluePlugin;

    int32_t nbOutputs() const noexcept { return params().num_outputs; }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        checkTypes(in.data, in.size());
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = i == 1 ? DataType::kINT32 : in[kWord];
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& ids = in[kIds];
        TRTPLUG_ENSURE(ids.nbDims == 2, "input_ids must be 2-D, got rank " + std::to_string(ids.nbDims));
        TRTPLUG_ENSURE(in[kWord].nbDims == 2,
            "word_embedding must be 2-D, got rank " + std::to_string(in[kWord].nbDims));
        DimsExprs tokens = ids;
        tokens.nbDims = 3;
        tokens.d[2] = in[kWord].d[1];
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = tokens;
            if (i == 1)
            {
                out[i].nbDims = 1; // mask_index: (batch)
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
        bool const index = pos < nbInputs ? isIndex(pos) : pos - nbInputs == 1;
        if (index)
        {
            return d.type == DataType::kINT32;
        }
        return pos == kWord ? isFloatOrBf16(d.type) : d.type == inOut[kWord].desc.type;
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const>) { checkInputs(in); }
    void shapeChanged(Span<Desc const> in, Span<Desc const>) { checkInputs(in); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        EmbedNormArgs a;
        if (!toDType(in[kWord].type, a.dtype))
        {
            return cudaErrorInvalidValue;
        }
        nvinfer1::Dims dims[kInputCount]{};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            dims[i] = in[i].dims;
        }
        auto input = [&](int32_t i) { return present(dims, in.size(), i) ? inputs[i] : nullptr; };
        a.inputIds = static_cast<int32_t const*>(inputs[kIds]);
        a.segmentIds = static_cast<int32_t const*>(input(kSegmentIds));
        a.mask = static_cast<int32_t const*>(input(kMask));
        a.positionIds = static_cast<int32_t const*>(input(kPositionIds));
        a.positionIdsBroadcast = a.positionIds != nullptr && dims[kPositionIds].d[0] == 1 && dims[kIds].d[0] != 1;
        a.wordEmbedding = inputs[kWord];
        a.positionEmbedding = inputs[kPosition];
        a.segmentEmbedding = input(kSegment);
        a.gamma = inputs[kGamma];
        a.beta = inputs[kBeta];
        a.output = outputs[0];
        a.maskIndex = nbOutputs() > 1 ? static_cast<int32_t*>(outputs[1]) : nullptr;
        a.embeddingSum = nbOutputs() > 2 ? outputs[2] : nullptr;
        a.batch = dims[kIds].d[0];
        a.seq = dims[kIds].d[1];
        a.hidden = dims[kWord].d[1];
        a.wordRows = dims[kWord].d[0];
        a.positionRows = dims[kPosition].d[0];
        a.segmentRows = a.segmentEmbedding != nullptr ? dims[kSegment].d[0] : 0;
        a.epsilon = params().epsilon;
        return launchEmbedLayerNorm(a, stream);
    }

private:
    //! Concrete shapes and types of the inputs (configure: dims may still be -1).
    template <class D>
    static void checkInputs(Span<D const> in)
    {
        nvinfer1::Dims dims[kInputCount]{};
        DataType types[kInputCount]{};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            dims[i] = descOf(in[i]).dims;
            types[i] = descOf(in[i]).type;
        }
        checkDims(dims, in.size());
        checkTypes(types, in.size());
    }
};

TRTPLUG_REGISTER_PLUGIN(EmbedLayerNormPlugin);

} // namespace
} // namespace trtplug
