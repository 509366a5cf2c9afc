// TrtplugDft17, TrtplugDft: one IPluginV3 adapter over launchDft, instantiated per member's
// generated glue (spec: plugins/dft/spec.toml). One input; dft_length and axis are fields (the
// rewrite folds the constant inputs), so the output shape is an expression of the input's dims.
// The cuFFT plan is made in onShapeChange, once per shape, never in enqueue; its work area is
// part of the TensorRT workspace.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "dft/dft.h"
#include "dft/op_glue.h"

#include <algorithm>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

bool isSupported(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

template <class Glue>
class DftPlugin : public GluePlugin<DftPlugin<Glue>, Glue>
{
public:
    using GluePlugin<DftPlugin<Glue>, Glue>::GluePlugin;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(dftAvailable(), "this plugin library was built without cuFFT");
        TRTPLUG_ENSURE(isSupported(in[0]), std::string("input must be float32, float16 or bfloat16, got ")
                + trtTypeName(in[0]));
        out[0] = in[0];
    }

    //! The input's dims with the axis' length replaced by the output length (an expression of
    //! it when dft_length is absent) and the last dim by 1 (irfft) or 2.
    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims >= 2 && x.d[x.nbDims - 1]->isConstant(),
            "input must have rank >= 2 and a constant last dim (1 real, 2 complex)");
        TensorShape probe{}; // the input's dims, 1 where symbolic: validates the fields
        probe.rank = x.nbDims;
        for (int32_t d = 0; d < x.nbDims && d < TensorShape::kMaxRank; ++d)
        {
            probe.d[d] = x.d[d]->isConstant() ? x.d[d]->getConstantValue() : 1;
        }
        DftPlan plan{};
        std::string const problem = planDft(plan, probe, fields());
        TRTPLUG_ENSURE(problem.empty(), problem);
        int32_t const a = static_cast<int32_t>((fields().axis + x.nbDims) % x.nbDims);
        out[0] = x;
        out[0].d[x.nbDims - 1] = expr.constant(plan.outComps);
        out[0].d[a] = outputLength(*x.d[a], plan, expr);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? isSupported(d.type) : d.type == inOut[0].desc.type);
    }

    //! Plans for the new shape and makes the cuFFT plan for it (reused until the shape changes).
    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        DftPlan const plan = planFor(in[0].dims);
        std::string const problem = checkDftOutput(plan, TensorShape::of(out[0].dims));
        TRTPLUG_ENSURE(problem.empty(), problem);
        DType dtype{};
        TRTPLUG_ENSURE(toDType(in[0].type, dtype), "input type");
        cudaError_t const err = mFft.prepare(plan, dtype);
        TRTPLUG_ENSURE(err == cudaSuccess, std::string("cuFFT plan: ") + cudaGetErrorName(err));
    }

    //! Buffers for the largest dims, and cuFFT's work area: for the largest n and for the
    //! power of two >= 2 n, the padded length a smaller prime n's Bluestein transform may use.
    //! The float32 copies (dftCopies) a static shape skips stay where the shape is dynamic: other
    //! dims of it may need them (a cut signal, a strided axis, a length not a power of two).
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        DftPlan plan{};
        DType dtype{};
        if (!toDType(in[0].desc.type, dtype) || !planDft(plan, TensorShape::of(in[0].max), fields()).empty())
        {
            return 0;
        }
        DftPlan padded = plan;
        for (padded.n = 1; padded.n < 2 * plan.n; padded.n *= 2)
        {
        }
        DType io{};
        size_t const work = std::max(dftFftWorkBytes(plan, dtype, io), dftFftWorkBytes(padded, DType::kFLOAT32));
        bool const fixed = TensorShape::of(in[0].min).same(TensorShape::of(in[0].max));
        return dftWorkspaceBytes(plan, fixed ? dftCopies(plan, dtype, io) : DftCopies{}, work);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        DftPlan plan{};
        if (!toDType(in[0].type, dtype) || !planDft(plan, TensorShape::of(in[0].dims), fields()).empty())
        {
            return cudaErrorInvalidValue;
        }
        return launchDft(dtype, plan, mFft, inputs[0], outputs[0], workspace, stream);
    }

private:
    DftFields fields() const
    {
        auto const& p = this->params();
        return {p.axis, p.dft_length, p.inverse != 0, p.onesided != 0};
    }

    DftPlan planFor(nvinfer1::Dims const& dims) const
    {
        DftPlan plan{};
        std::string const problem = planDft(plan, TensorShape::of(dims), fields());
        TRTPLUG_ENSURE(problem.empty(), problem);
        return plan;
    }

    //! The output's axis length: constant with dft_length, else n // 2 + 1 (onesided forward),
    //! 2 (m - 1) (irfft) or m of the input's length m.
    IDimensionExpr const* outputLength(IDimensionExpr const& m, DftPlan const& plan, nvinfer1::IExprBuilder& expr) const
    {
        DftFields const f = fields();
        if (f.dftLength > 0 || m.isConstant())
        {
            return expr.constant(plan.outLen);
        }
        if (f.inverse && f.onesided)
        {
            auto const* less = expr.operation(DimensionOperation::kSUB, m, *expr.constant(1));
            return expr.operation(DimensionOperation::kPROD, *less, *expr.constant(2));
        }
        if (f.onesided)
        {
            auto const* half = expr.operation(DimensionOperation::kFLOOR_DIV, m, *expr.constant(2));
            return expr.operation(DimensionOperation::kSUM, *half, *expr.constant(1));
        }
        return &m;
    }

    DftFftPlan mFft; // made in shapeChanged (a clone starts without one); execute only reads its handle
};

using Dft17Plugin = DftPlugin<glue_dft_17::Glue>;
using Dft20Plugin = DftPlugin<glue_dft_20::Glue>;
TRTPLUG_REGISTER_PLUGIN(Dft17Plugin);
TRTPLUG_REGISTER_PLUGIN(Dft20Plugin);

} // namespace
} // namespace trtplug
