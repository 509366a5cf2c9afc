// TrtplugCumSum, TrtplugCumProd: one IPluginV3 adapter over launchCumulative, instantiated per
// member's generated glue (identity, fields exclusive/reverse and their value rules; spec:
// plugins/cumulative/spec.toml). `axis` is a regular device input the kernel reads: the output
// shape is x's whatever the axis, so nothing at build time needs its value. A 1-D x asks for a
// workspace (the one-pass scan's tile status); other ranks need none.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "cumulative/cumulative.h"
#include "cumulative/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

bool isScanned(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 || t == DataType::kINT32
        || t == DataType::kINT64;
}

bool isAxisType(DataType t) noexcept
{
    return t == DataType::kINT32 || t == DataType::kINT64;
}

template <class Glue, ScanOp kOp>
class CumulativePlugin : public GluePlugin<CumulativePlugin<Glue, kOp>, Glue>
{
public:
    using GluePlugin<CumulativePlugin<Glue, kOp>, Glue>::GluePlugin;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isScanned(in[0]), std::string("x: unsupported type ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(isAxisType(in[1]), std::string("axis must be int32 or int64, got ") + trtTypeName(in[1]));
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        TRTPLUG_ENSURE(in[0].nbDims >= 1, "x must have rank >= 1");
        bool const oneValue = in[1].nbDims == 0
            || (in[1].nbDims == 1 && (!in[1].d[0]->isConstant() || in[1].d[0]->getConstantValue() == 1));
        TRTPLUG_ENSURE(oneValue, "axis must be a 0-D tensor, got rank " + std::to_string(in[1].nbDims));
        out[0] = in[0];
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
        case 0: return isScanned(d.type);
        case 1: return isAxisType(d.type);
        case 2: return d.type == inOut[0].desc.type;
        default: return false;
        }
    }

    //! The one-pass scan's tile status, for a 1-D x (0 otherwise), asked for x's largest shape.
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        DType dtype{};
        return toDType(in[0].desc.type, dtype) ? cumulativeWorkspaceBytes(dtype, TensorShape::of(in[0].max)) : 0;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        DType axisType{};
        if (!toDType(in[0].type, dtype) || !toDType(in[1].type, axisType))
        {
            return cudaErrorInvalidValue;
        }
        ScanOptions const options{kOp, this->params().exclusive != 0, this->params().reverse != 0};
        TensorShape const shape = TensorShape::of(in[0].dims);
        // TensorRT gives at least what workspaceSize asked for x's largest shape, which covers this
        // one; none (a host without the build phase's size) leaves the launcher its multi-pass paths.
        size_t const bytes = workspace != nullptr ? cumulativeWorkspaceBytes(dtype, shape) : 0;
        return launchCumulative(
            options, dtype, inputs[0], shape, inputs[1], axisType, outputs[0], workspace, bytes, stream);
    }
};

using CumSumPlugin = CumulativePlugin<glue_cum_sum::Glue, ScanOp::kSum>;
using CumProdPlugin = CumulativePlugin<glue_cum_prod::Glue, ScanOp::kProd>;
TRTPLUG_REGISTER_PLUGIN(CumSumPlugin);
TRTPLUG_REGISTER_PLUGIN(CumProdPlugin);

} // namespace
} // namespace trtplug
