// TrtplugRotaryEmbedding and TrtplugMRotaryEmbedding (com.microsoft) and TrtplugOnnxRotaryEmbedding (ai.onnx-23): one
// IPluginV3 adapter over launchRotaryEmbedding, instantiated per member's glue (identity,
// fields, counts and value rules generated from plugins/rotary_embedding/spec.toml).
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "rotary_embedding/members.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

template <class Glue>
class RotaryEmbeddingPlugin : public GluePlugin<RotaryEmbeddingPlugin<Glue>, Glue>
{
    using Base = GluePlugin<RotaryEmbeddingPlugin<Glue>, Glue>;

public:
    using Base::Base;
    using typename Base::Desc;
    using typename Base::DimsExprs;
    using typename Base::DynDesc;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        int32_t const x = rotaryInputs(this->params()).x;
        TRTPLUG_ENSURE(isFloatOrBf16(in[x]),
            std::string("input must be float32, float16 or bfloat16, got ") + trtTypeName(in[x]));
        out[0] = in[x];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& x = in[rotaryInputs(this->params()).x];
        TRTPLUG_ENSURE(x.nbDims == 3 || x.nbDims == 4,
            "input must be 3-D [batch, seq, hidden] or 4-D [batch, heads, seq, head], got rank " + std::to_string(x.nbDims));
        out[0] = x;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        RotaryInputIndex const idx = rotaryInputs(this->params());
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        if (pos == idx.x)
        {
            return isFloatOrBf16(d.type);
        }
        if (pos == idx.positions && pos < nbInputs)
        {
            return d.type == DataType::kINT64;
        }
        return d.type == inOut[idx.x].desc.type; // the caches and the output
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>) const { geometry(in); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        RotaryInputIndex const idx = rotaryInputs(this->params());
        DType dtype{};
        if (!toDType(in[idx.x].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        bool const hasPositions = idx.positions < static_cast<int32_t>(in.size());
        auto const* positions = hasPositions ? static_cast<int64_t const*>(inputs[idx.positions]) : nullptr;
        return launchRotaryEmbedding(
            geometry(in), dtype, inputs[idx.x], outputs[0], inputs[idx.cos], inputs[idx.sin], positions, stream);
    }

private:
    //! The launch geometry of concrete shapes; a shape that does not fit fails with the reason.
    RotaryProblem geometry(Span<Desc const> in) const
    {
        RotaryInputIndex const idx = rotaryInputs(this->params());
        nvinfer1::Dims const& cos = in[idx.cos].dims;
        nvinfer1::Dims const& sin = in[idx.sin].dims;
        TRTPLUG_ENSURE(cos.nbDims == sin.nbDims && std::equal(cos.d, cos.d + cos.nbDims, sin.d),
            "cos_cache and sin_cache must have one shape");
        bool const hasPositions = idx.positions < static_cast<int32_t>(in.size());
        RotaryEmbeddingShapes shapes;
        shapes.rank = in[idx.x].dims.nbDims;
        shapes.input = in[idx.x].dims.d;
        shapes.cosRank = cos.nbDims;
        shapes.cos = cos.d;
        shapes.posRank = hasPositions ? in[idx.positions].dims.nbDims : 0;
        shapes.pos = hasPositions ? in[idx.positions].dims.d : nullptr;
        RotaryProblem p;
        std::string const problem = setRotaryEmbeddingGeometry(p, shapes, rotaryAttrs(this->params()));
        TRTPLUG_ENSURE(problem.empty(), problem);
        return p;
    }
};

using ContribRotaryEmbeddingPlugin = RotaryEmbeddingPlugin<glue_contrib_rotary_embedding::Glue>;
using OnnxRotaryEmbeddingPlugin = RotaryEmbeddingPlugin<glue_onnx_rotary_embedding::Glue>;
using MRotaryEmbeddingPlugin = RotaryEmbeddingPlugin<glue_mrotary_embedding::Glue>;
TRTPLUG_REGISTER_PLUGIN(ContribRotaryEmbeddingPlugin);
TRTPLUG_REGISTER_PLUGIN(MRotaryEmbeddingPlugin);
TRTPLUG_REGISTER_PLUGIN(OnnxRotaryEmbeddingPlugin);

} // namespace
} // namespace trtplug
