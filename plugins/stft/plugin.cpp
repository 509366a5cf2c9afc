// TrtplugStft: the IPluginV3 adapter over the DFT launcher on an STFT plan (spec:
// plugins/stft/spec.toml). Inputs: signal [batch, length] / [batch, length, 1] (real) or
// [batch, length, 2] (complex) and the optional window;
// frame_step / frame_length are fields (folded constants). The cuFFT plan is made in
// onShapeChange, once per shape; its work area is part of the TensorRT workspace.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "dft/dft.h"
#include "stft/op_glue.h"

#include <algorithm>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;

bool isSupported(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

class StftPlugin : public GluePlugin<StftPlugin, glue_stft::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(dftAvailable(), "this plugin library was built without cuFFT");
        TRTPLUG_ENSURE(isSupported(in[0]), std::string("signal must be float32, float16 or bfloat16, got ")
                + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in.size() < 2 || in[1] == in[0], "window must have signal's type");
        out[0] = in[0];
    }

    //! [batch, frames, bins, 2]: frames = (length - n) // frame_step + 1 as an expression of the
    //! signal's length; n from frame_length, else a constant window length.
    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims == 2 || (x.nbDims == 3 && x.d[2]->isConstant()),
            "signal must be [batch, length] or [batch, length, 1 or 2]");
        int64_t n = params().frame_length;
        if (n <= 0 && in.size() > 1)
        {
            TRTPLUG_ENSURE(in[1].nbDims == 1 && in[1].d[0]->isConstant(),
                "without frame_length the window's length must be a build-time constant");
            n = in[1].d[0]->getConstantValue();
        }
        TRTPLUG_ENSURE(n > 0, "frame_length (or a window) is needed to frame the signal");
        auto const* span = expr.operation(DimensionOperation::kSUB, *x.d[1], *expr.constant(n));
        auto const* steps = expr.operation(DimensionOperation::kFLOOR_DIV, *span, *expr.constant(params().frame_step));
        out[0].nbDims = 4;
        out[0].d[0] = x.d[0];
        out[0].d[1] = expr.operation(DimensionOperation::kSUM, *steps, *expr.constant(1));
        out[0].d[2] = expr.constant(params().onesided ? n / 2 + 1 : n);
        out[0].d[3] = expr.constant(2);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? isSupported(d.type) : d.type == inOut[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        DftPlan const plan = planFor(in);
        std::string const problem = checkDftOutput(plan, TensorShape::of(out[0].dims));
        TRTPLUG_ENSURE(problem.empty(), problem);
        DType dtype{};
        TRTPLUG_ENSURE(toDType(in[0].type, dtype), "signal type");
        cudaError_t const err = mFft.prepare(plan, dtype);
        TRTPLUG_ENSURE(err == cudaSuccess, std::string("cuFFT plan: ") + cudaGetErrorName(err));
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        DftPlan plan{};
        int64_t const windowLen = in.size() > 1 ? in[1].max.d[0] : 0;
        auto const& p = params();
        if (!planStft(plan, TensorShape::of(in[0].max), p.frame_step, p.frame_length, windowLen, p.onesided != 0)
                 .empty())
        {
            return 0;
        }
        // Frames always go through the pack (dftIoType: float32 plans); whether the spectrum needs
        // its copy depends on the type, onesided and the signal's last dim alone, not on dims a
        // dynamic shape varies.
        DType dtype{};
        DType io{};
        size_t const work = dftFftWorkBytes(plan, DType::kFLOAT32, io);
        return toDType(in[0].desc.type, dtype) ? dftWorkspaceBytes(plan, dftCopies(plan, dtype, io), work) : 0;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        DftPlan const plan = planFor(in);
        return launchDft(dtype, plan, mFft, inputs[0], outputs[0], workspace, stream, in.size() > 1 ? inputs[1] : nullptr);
    }

private:
    DftPlan planFor(Span<Desc const> in) const
    {
        DftPlan plan{};
        int64_t const windowLen = in.size() > 1 ? in[1].dims.d[0] : 0;
        auto const& p = params();
        std::string const problem = planStft(
            plan, TensorShape::of(in[0].dims), p.frame_step, p.frame_length, windowLen, p.onesided != 0);
        TRTPLUG_ENSURE(problem.empty(), problem);
        return plan;
    }

    DftFftPlan mFft; // made in shapeChanged (a clone starts without one); execute only reads its handle
};

TRTPLUG_REGISTER_PLUGIN(StftPlugin);

} // namespace
} // namespace trtplug
