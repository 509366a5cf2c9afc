// TrtplugMaxUnpool: the IPluginV3 adapter over launchMaxUnpool (spec: plugins/max_unpool/spec.toml).
// Inputs X (N, C, spatial...) and I (int64, X's shape); optional shape input output_shape.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "max_unpool/unpool_params.h"

#include <string>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;

// Identity, fields and their value rules (lengths between attributes included): generated from
// the spec; the unpooled lengths: unpool_params.h, shared with the binding.
class MaxUnpoolPlugin : public GluePlugin<MaxUnpoolPlugin, glue_max_unpool::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == DataType::kINT64, std::string("I must be int64, got ") + trtTypeName(in[1]));
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        int32_t const n = maxunpool::spatial(params());
        TRTPLUG_ENSURE(in[0].nbDims == n + 2, "X must have rank " + std::to_string(n + 2) + " for a "
                + std::to_string(n) + "-D kernel_shape, got rank " + std::to_string(in[0].nbDims));
        TRTPLUG_ENSURE(in[1].nbDims == in[0].nbDims, "I must have X's shape");
        TRTPLUG_ENSURE(shapeIn.size() <= 1, "at most one shape input (output_shape)");
        if (shapeIn.size() == 1)
        {
            TRTPLUG_ENSURE(shapeIn[0].nbDims == n + 2, "output_shape must have " + std::to_string(n + 2) + " values");
            out[0] = shapeIn[0];
            return;
        }
        out[0] = in[0];
        for (int32_t d = 0; d < n; ++d)
        {
            auto const* x = in[0].d[2 + d];
            if (x->isConstant())
            {
                out[0].d[2 + d] = expr.constant(maxunpool::inferred(params(), d, x->getConstantValue()));
                continue;
            }
            auto const* scaled = expr.operation(DimensionOperation::kPROD,
                *expr.operation(DimensionOperation::kSUB, *x, *expr.constant(1)), *expr.constant(maxunpool::stride(params(), d)));
            out[0].d[2 + d] = expr.operation(
                DimensionOperation::kSUM, *scaled, *expr.constant(params().kernel_shape[d] - maxunpool::padSum(params(), d)));
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : pos == 1 ? d.type == DataType::kINT64 : d.type == inOut[0].desc.type;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        nvinfer1::Dims const& x = in[0].dims;
        nvinfer1::Dims const& y = out[0].dims;
        TRTPLUG_ENSURE(y.nbDims == x.nbDims && y.d[0] == x.d[0] && y.d[1] == x.d[1], "Y must have X's rank, N and C");
        for (int32_t d = 0; d < maxunpool::spatial(params()); ++d)
        {
            TRTPLUG_ENSURE(y.d[2 + d] >= maxunpool::inferred(params(), d, x.d[2 + d]),
                "output_shape must not be smaller than the unpooled shape");
        }
    }

    size_t workspaceSize(Span<DynDesc const>, Span<DynDesc const>) const { return kMaxUnpoolWorkspaceBytes; }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        nvinfer1::Dims const& x = in[0].dims;
        int64_t inferred[kMaxUnpoolMaxSpatial];
        for (int32_t d = 0; d < maxunpool::spatial(params()); ++d)
        {
            inferred[d] = maxunpool::inferred(params(), d, x.d[2 + d]);
        }
        return launchMaxUnpool(dtype, inputs[0], static_cast<int64_t const*>(inputs[1]), outputs[0], volume(x),
            x.d[0] * x.d[1], maxunpool::spatial(params()), x.d + 2, inferred, out[0].dims.d + 2, workspace, stream);
    }
};

TRTPLUG_REGISTER_PLUGIN(MaxUnpoolPlugin);

} // namespace
} // namespace trtplug
