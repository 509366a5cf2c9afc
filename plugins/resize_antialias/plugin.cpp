// TrtplugResizeAntialias: the IPluginV3 adapter over launchResizeAntialias (spec:
// plugins/resize_antialias/spec.toml). One input X; roi, scales and sizes are fields (the rewrite
// folds the constant inputs), so the output shape is a function of X's dims: constant where
// they are, else exact integer expressions (sizes; integer scales; scales 1/2^k) or an error.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "resize_antialias/op_glue.h"
#include "resize_antialias/resize_antialias.h"

#include <cmath>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

bool isSupported(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 || t == DataType::kUINT8;
}

// Identity, fields, defaults and value rules (antialias = 1, mode linear/cubic, ...): generated from the spec.
class ResizeAntialiasPlugin : public GluePlugin<ResizeAntialiasPlugin, glue_resize_antialias::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[0]),
            std::string("X must be float32, float16, bfloat16 or uint8, got ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        TensorShape probe{}; // X's dims, 1 where symbolic: validates the fields, gives constant outputs
        probe.rank = x.nbDims;
        for (int32_t d = 0; d < x.nbDims && d < TensorShape::kMaxRank; ++d)
        {
            probe.d[d] = x.d[d]->isConstant() ? x.d[d]->getConstantValue() : 1;
        }
        ResizePlan plan{};
        std::string const problem = planResize(plan, probe, params());
        TRTPLUG_ENSURE(problem.empty(), problem);
        out[0].nbDims = x.nbDims;
        for (int32_t d = 0; d < x.nbDims; ++d)
        {
            out[0].d[d] = outputDim(plan, d, *x.d[d], expr);
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? isSupported(d.type) : d.type == inOut[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        ResizePlan const plan = planFor(in[0].dims);
        std::string const problem = checkResizeOutput(plan, TensorShape::of(out[0].dims));
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    //! Intermediates between passes, for X's largest dims.
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        ResizePlan plan{};
        return planResize(plan, TensorShape::of(in[0].max), params()).empty() ? resizeWorkspaceBytes(plan) : 0;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        ResizePlan plan{};
        if (!toDType(in[0].type, dtype) || !planResize(plan, TensorShape::of(in[0].dims), params()).empty())
        {
            return cudaErrorInvalidValue;
        }
        return launchResizeAntialias(dtype, plan, inputs[0], outputs[0], workspace, stream);
    }

private:
    ResizePlan planFor(nvinfer1::Dims const& dims) const
    {
        ResizePlan plan{};
        std::string const problem = planResize(plan, TensorShape::of(dims), params());
        TRTPLUG_ENSURE(problem.empty(), problem);
        return plan;
    }

    //! Output dim d for input dim `in`: what the plan says when it is constant (or sizes fix it),
    //! an exact expression for integer scales and scales 1/2^k, else an error naming the axis.
    IDimensionExpr const* outputDim(
        ResizePlan const& plan, int32_t d, IDimensionExpr const& in, nvinfer1::IExprBuilder& expr) const
    {
        if (!plan.listed[d])
        {
            return &in;
        }
        bool const bySizes = !params().sizes.empty();
        if (in.isConstant() || (bySizes && params().keep_aspect_ratio_policy == "stretch"))
        {
            return expr.constant(plan.out[d]);
        }
        TRTPLUG_ENSURE(!bySizes, "keep_aspect_ratio_policy '" + params().keep_aspect_ratio_policy
                + "' needs X's resized dims constant; axis " + std::to_string(d) + " is not");
        double const s = plan.scale[d];
        double const up = std::round(s);
        double const down = std::round(1.0 / s);
        if (up >= 1.0 && s == up)
        {
            return up == 1.0 ? &in : expr.operation(DimensionOperation::kPROD, in, *expr.constant(int64_t(up)));
        }
        TRTPLUG_ENSURE(down >= 2.0 && s * down == 1.0 && std::exp2(std::round(std::log2(down))) == down,
            "scale " + std::to_string(s) + " of axis " + std::to_string(d)
                + " needs a constant input dim (only integer scales and 1/2^k resize a dynamic dim exactly)");
        return expr.operation(DimensionOperation::kFLOOR_DIV, in, *expr.constant(int64_t(down)));
    }
};

TRTPLUG_REGISTER_PLUGIN(ResizeAntialiasPlugin);

} // namespace
} // namespace trtplug
