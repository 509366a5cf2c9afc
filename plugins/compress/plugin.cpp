// TrtplugCompress: the IPluginV3 adapter over launchCompress (spec: plugins/compress/spec.toml).
// Inputs: input (any element type of 1..8 bytes), condition (bool, 1-D). Outputs: the selected
// slices, whose extent along `axis` (all elements when flattened) is data-dependent, and the
// size tensor holding that extent (output 1, 0-D int32). Field axis = INT32_MIN: flattened.
#include "common/plugin_base.h"
#include "common/plugin_shapes.h"
#include "common/trt_dtype.h"
#include "compress/compress.h"
#include "compress/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;

// Identity, fields and counts (output, then its size tensor): generated from the spec.
class CompressPlugin : public GluePlugin<CompressPlugin, glue_compress::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(hasDType(in[0]), std::string("unsupported input type ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == DataType::kBOOL, std::string("condition must be bool, got ") + trtTypeName(in[1]));
        out[0] = in[0];
        out[1] = DataType::kINT32;
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(in[1].nbDims == 1, "condition must be 1-D, got rank " + std::to_string(in[1].nbDims));
        if (params().axis == kAxisAbsent)
        {
            auto const* upper = expr.operation(DimensionOperation::kMIN, *volumeExpr(in[0], expr), *in[1].d[0]);
            out[0].nbDims = 1;
            out[0].d[0] = declareCount(expr, out.data, 1, *upper);
            return;
        }
        int32_t const axis = resolvedAxis(in[0].nbDims);
        out[0] = in[0];
        auto const* upper = expr.operation(DimensionOperation::kMIN, *in[0].d[axis], *in[1].d[0]);
        out[0].d[axis] = declareCount(expr, out.data, 1, *upper);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        bool const typeOk = pos == 0 ? hasDType(d.type)
            : pos == 1               ? d.type == DataType::kBOOL
            : pos == 2               ? d.type == inOut[0].desc.type
                                     : d.type == DataType::kINT32;
        return d.format == nvinfer1::TensorFormat::kLINEAR && typeOk;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>)
    {
        TRTPLUG_ENSURE(in[1].dims.nbDims == 1, "condition must be 1-D");
        resolvedAxis(in[0].dims.nbDims);
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        return compressWorkspaceBytes(shapeOf(in[0].max, in[1].max.d[0]));
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        CompressShape const shape = shapeOf(in[0].dims, in[1].dims.d[0]);
        return launchCompress(dtype, inputs[0], static_cast<bool const*>(inputs[1]), shape, outputs[0],
            static_cast<int32_t*>(outputs[1]), workspace, compressWorkspaceBytes(shape), stream);
    }

private:
    //! Field `axis` made non-negative for `rank` (kAxisAbsent stays).
    int32_t resolvedAxis(int32_t rank) const
    {
        int64_t resolved = 0;
        int32_t const a = params().axis;
        TRTPLUG_ENSURE(compressAxis(a, rank, resolved),
            "axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
        return static_cast<int32_t>(resolved);
    }

    CompressShape shapeOf(nvinfer1::Dims const& x, int64_t condLen) const
    {
        return compressShapeOf(x.nbDims, x.d, resolvedAxis(x.nbDims), condLen);
    }
};

TRTPLUG_REGISTER_PLUGIN(CompressPlugin);

} // namespace
} // namespace trtplug
