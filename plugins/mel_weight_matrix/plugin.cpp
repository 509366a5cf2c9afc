// TrtplugMelWeightMatrix: the IPluginV3 adapter over launchMelWeightMatrix (spec:
// plugins/mel_weight_matrix/spec.toml). Shape inputs num_mel_bins, dft_length, sample_rate fix
// the output [dft_length / 2 + 1, num_mel_bins]; their values never reach enqueue, so dft_length
// and sample_rate come once more as regular inputs (data copies) after the two float32 edges:
// regular inputs lower_edge_hertz, upper_edge_hertz, dft_length, sample_rate.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "mel_weight_matrix/mel_weight_matrix.h"
#include "mel_weight_matrix/mel_weight_matrix_types.h"
#include "mel_weight_matrix/op_glue.h"

#include <string>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

constexpr int32_t kLower = 0, kUpper = 1, kDftCopy = 2, kRateCopy = 3, kOutput = 4; // I/O positions

bool isIndexType(DataType t) noexcept
{
    return t == DataType::kINT32 || t == DataType::kINT64;
}

// Identity, fields and the output_datatype rule (choices 1, 10, 16): generated from the spec.
class MelWeightMatrixPlugin : public GluePlugin<MelWeightMatrixPlugin, glue_mel_weight_matrix::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(in[kLower] == DataType::kFLOAT && in[kUpper] == DataType::kFLOAT,
            "lower_edge_hertz and upper_edge_hertz must be float32");
        TRTPLUG_ENSURE(isIndexType(in[kDftCopy]) && in[kRateCopy] == in[kDftCopy],
            std::string("dft_length and sample_rate must be one of int32, int64, got ") + trtTypeName(in[kDftCopy])
                + " and " + trtTypeName(in[kRateCopy]));
        out[0] = outputType();
    }

    void outputShapes(
        Span<DimsExprs const>, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(shapeIn.size() == 3, "expected the shape inputs num_mel_bins, dft_length and sample_rate "
                "(tensorrt_plugin_shape_input_indices), got " + std::to_string(shapeIn.size()) + " shape inputs");
        for (size_t i = 0; i < 3; ++i)
        {
            // A 0-D shape tensor's values: one expression.
            TRTPLUG_ENSURE(shapeIn[i].nbDims == 1, std::string(glue_mel_weight_matrix::kInputNames[i])
                    + " must be a scalar, got " + std::to_string(shapeIn[i].nbDims) + " values");
        }
        IDimensionExpr const* mels = shapeIn[0].d[0];
        IDimensionExpr const* dft = shapeIn[1].d[0];
        TRTPLUG_ENSURE(!mels->isConstant() || mels->getConstantValue() >= 1, "num_mel_bins must be >= 1");
        TRTPLUG_ENSURE(!dft->isConstant() || dft->getConstantValue() >= 2, "dft_length must be >= 2");
        out[0].nbDims = 2;
        out[0].d[0] = expr.operation(DimensionOperation::kSUM,
            *expr.operation(DimensionOperation::kFLOOR_DIV, *dft, *expr.constant(2)), *expr.constant(1));
        out[0].d[1] = mels;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        switch (pos)
        {
        case kLower:
        case kUpper: return d.type == DataType::kFLOAT;
        case kDftCopy: return isIndexType(d.type);
        case kRateCopy: return d.type == inOut[kDftCopy].desc.type;
        case kOutput: return d.type == outputType();
        default: return false;
        }
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        for (int32_t i = 0; i < 4; ++i)
        {
            TRTPLUG_ENSURE(in[i].dims.nbDims == 0, "the edges and the dft_length/sample_rate copies must be 0-D");
        }
        TRTPLUG_ENSURE(out[0].dims.nbDims == 2, "output must be 2-D");
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType outType{}, intType{};
        if (!melOutputDType(params().output_datatype, outType) || !toDType(in[kDftCopy].type, intType))
        {
            return cudaErrorInvalidValue;
        }
        nvinfer1::Dims const& y = out[0].dims;
        return launchMelWeightMatrix(outType, intType, inputs[kDftCopy], inputs[kRateCopy],
            static_cast<float const*>(inputs[kLower]), static_cast<float const*>(inputs[kUpper]), outputs[0], y.d[0],
            y.d[1], stream);
    }

private:
    DataType outputType() const
    {
        switch (params().output_datatype)
        {
        case 10: return DataType::kHALF;
        case 16: return DataType::kBF16;
        default: return DataType::kFLOAT; // 1; the creator's value rule refuses the others
        }
    }
};

TRTPLUG_REGISTER_PLUGIN(MelWeightMatrixPlugin);

} // namespace
} // namespace trtplug
