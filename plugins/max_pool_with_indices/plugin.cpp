// TrtplugMaxPoolWithIndices: the IPluginV3 adapter over launchMaxPoolWithIndices (spec:
// plugins/max_pool_with_indices/spec.toml). Input X (N, C, spatial...); outputs Y and Indices (int64).
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "max_pool_with_indices/pool_params.h"

#include <algorithm>
#include <string>
#include <vector>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

// Identity, fields and their value rules (lengths between attributes included): generated from
// the spec; the geometry: pool_params.h, shared with the binding.
class MaxPoolWithIndicesPlugin : public GluePlugin<MaxPoolWithIndicesPlugin, glue_max_pool_with_indices::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        out[0] = in[0];
        out[1] = DataType::kINT64;
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        int32_t const n = maxpool::spatial(params());
        TRTPLUG_ENSURE(in[0].nbDims == n + 2, "X must have rank " + std::to_string(n + 2) + " for a "
                + std::to_string(n) + "-D kernel_shape, got rank " + std::to_string(in[0].nbDims));
        out[0] = in[0];
        for (int32_t d = 0; d < n; ++d)
        {
            out[0].d[2 + d] = outputLength(d, *in[0].d[2 + d], expr);
        }
        out[1] = out[0];
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : pos == 1 ? d.type == inOut[0].desc.type : d.type == DataType::kINT64;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        nvinfer1::Dims const& x = in[0].dims;
        PoolGeometry const g = maxpool::geometry(params(), x.d + 2);
        for (int32_t d = 0; d < g.spatial; ++d)
        {
            if (g.out[d] != out[0].dims.d[2 + d])
            {
                return cudaErrorInvalidValue;
            }
        }
        return launchMaxPoolWithIndices(
            dtype, inputs[0], outputs[0], static_cast<int64_t*>(outputs[1]), x.d[0] * x.d[1], g, stream);
    }

private:
    //! Constant lengths fold; symbolic ones become expressions (ceil_mode needs constant lengths).
    IDimensionExpr const* outputLength(int32_t d, IDimensionExpr const& in, nvinfer1::IExprBuilder& expr) const
    {
        maxpool::Params const& p = params();
        if (in.isConstant())
        {
            int64_t out = 0;
            int32_t begin = 0;
            maxpool::resolve(p, d, in.getConstantValue(), out, begin);
            TRTPLUG_ENSURE(out >= 0, "the window is larger than the padded input along axis " + std::to_string(d));
            return expr.constant(out);
        }
        auto const* s = expr.constant(maxpool::stride(p, d));
        if (maxpool::same(p))
        {
            return expr.operation(DimensionOperation::kCEIL_DIV, in, *s);
        }
        TRTPLUG_ENSURE(p.ceil_mode == 0, "ceil_mode 1 needs build-time spatial lengths");
        int64_t const shift = p.auto_pad == "VALID"
            ? 1 - maxpool::extent(p, d)
            : maxpool::pad(p, d) + maxpool::pad(p, maxpool::spatial(p) + d) - maxpool::extent(p, d);
        auto const* span = expr.operation(DimensionOperation::kSUM, in, *expr.constant(shift));
        if (p.auto_pad == "VALID")
        {
            return expr.operation(DimensionOperation::kCEIL_DIV, *span, *s);
        }
        return expr.operation(DimensionOperation::kSUM, *expr.operation(DimensionOperation::kFLOOR_DIV, *span, *s),
            *expr.constant(1));
    }
};

TRTPLUG_REGISTER_PLUGIN(MaxPoolWithIndicesPlugin);

} // namespace
} // namespace trtplug
