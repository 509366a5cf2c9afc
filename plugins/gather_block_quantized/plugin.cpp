// TrtplugGatherBlockQuantized: the IPluginV3 adapter over launchGatherBlockQuantized (spec:
// plugins/gather_block_quantized/spec.toml). Inputs data (uint8), indices (int32/int64), scales
// and the optional zero_points (uint8, left out when absent); output in the scales' type, shaped
// like data with the gathered axis replaced by indices' shape and the packed last axis unpacked.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "gather_block_quantized/gather_block_quantized.h"
#include "gather_block_quantized/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

enum Input : int32_t
{
    kData = 0,
    kIndices,
    kScales,
    kZeroPoints,
};

// Identity, input/output counts, fields, defaults and value rules: generated from the spec.
class GatherBlockQuantizedPlugin : public GluePlugin<GatherBlockQuantizedPlugin, glue_gather_block_quantized::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(in[kData] == DataType::kUINT8, std::string("data must be uint8, got ") + trtTypeName(in[kData]));
        TRTPLUG_ENSURE(isFloatOrBf16(in[kScales]),
            std::string("scales must be float32, float16 or bfloat16, got ") + trtTypeName(in[kScales]));
        out[0] = in[kScales];
    }

    //! data[:g] + indices + data[g+1:], the packed last axis times 8 / bits (unless gathered).
    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& data = in[kData];
        DimsExprs const& indices = in[kIndices];
        int32_t const rank = data.nbDims;
        TRTPLUG_ENSURE(rank >= 1, "data must have rank >= 1");
        int32_t const gather = gbqAxis(params().gather_axis, rank);
        TRTPLUG_ENSURE(gather >= 0 && gather < rank, "gather_axis " + std::to_string(params().gather_axis)
                + " is out of range for data of rank " + std::to_string(rank));
        TRTPLUG_ENSURE(rank - 1 + indices.nbDims <= nvinfer1::Dims::MAX_DIMS, "output rank exceeds 8");
        DimsExprs& y = out[0];
        y.nbDims = 0;
        for (int32_t i = 0; i < rank; ++i)
        {
            if (i != gather)
            {
                y.d[y.nbDims++] = codesAlong(data, i, expr);
                continue;
            }
            for (int32_t j = 0; j < indices.nbDims; ++j)
            {
                y.d[y.nbDims++] = indices.d[j];
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
        // Absent optional inputs shift the output down: index it from the spec's input count.
        switch (pos < nbInputs ? pos : kMaxInputs + pos - nbInputs)
        {
        case kData:
        case kZeroPoints: return d.type == DataType::kUINT8;
        case kIndices: return d.type == DataType::kINT32 || d.type == DataType::kINT64;
        case kScales: return isFloatOrBf16(d.type);
        default: return d.type == inOut[kScales].desc.type; // output
        }
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        GbqProblem p{};
        std::string const problem = gbqCheckShapes(params(), shapesOf(in, out[0]), p);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType valueType{};
        DType indexType{};
        GbqProblem p{};
        if (!toDType(in[kScales].type, valueType) || !toDType(in[kIndices].type, indexType)
            || !gbqCheckShapes(params(), shapesOf(in, out[0]), p).empty())
        {
            return cudaErrorInvalidValue;
        }
        p.data = static_cast<uint8_t const*>(inputs[kData]);
        p.indices = inputs[kIndices];
        p.scales = inputs[kScales];
        p.zeroPoints = p.zeroRowBytes > 0 ? static_cast<uint8_t const*>(inputs[kZeroPoints]) : nullptr;
        p.output = outputs[0];
        return launchGatherBlockQuantized(valueType, indexType, p, stream);
    }

private:
    //! Codes along axis i of data: the last axis holds 8 / bits codes per byte.
    nvinfer1::IDimensionExpr const* codesAlong(DimsExprs const& data, int32_t i, nvinfer1::IExprBuilder& expr) const
    {
        int32_t const perByte = 8 / params().bits;
        if (i != data.nbDims - 1 || perByte == 1)
        {
            return data.d[i];
        }
        return expr.operation(nvinfer1::DimensionOperation::kPROD, *data.d[i], *expr.constant(perByte));
    }

    static GbqShapes shapesOf(Span<Desc const> in, Desc const& y) noexcept
    {
        auto shape = [&](int32_t i) { return i < in.size() ? TensorShape::of(in[i].dims) : TensorShape{}; };
        return GbqShapes{shape(kData), shape(kIndices), shape(kScales), shape(kZeroPoints), TensorShape::of(y.dims)};
    }
};

TRTPLUG_REGISTER_PLUGIN(GatherBlockQuantizedPlugin);

} // namespace
} // namespace trtplug
