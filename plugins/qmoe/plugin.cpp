// TrtplugQMoE: the IPluginV3 adapter over launchQmoe (spec: plugins/qmoe/spec.toml). Inputs in
// ONNX Runtime's order: input, router_probs, then per projection its uint8 codes, scales and bias
// (fc3's optional), the three optional zero points, and router_weights (absent: left out when
// trailing, else empty tensors); output: input's shape. The workspace is MoE's (routes, per-expert
// groups, expert activations), asked for input's largest shape.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "moe/moe_plugin.h"
#include "qmoe/op_glue.h"
#include "qmoe/qmoe.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

enum Input : int32_t
{
    kInput = 0,
    kRouter,
    kFc1,
    kFc1Scales,
    kFc1Bias,
    kFc2,
    kFc2Scales,
    kFc2Bias,
    kFc3,
    kFc3Scales,
    kFc3Bias,
    kFc1Zero,
    kFc2Zero,
    kFc3Zero,
    kRouterWeights,
    kFc1Global,
    kFc2Global,
};


//! The uint8 inputs: codes and zero points; the others take input's type.
bool isPacked(int32_t pos) noexcept
{
    return pos == kFc1 || pos == kFc2 || pos == kFc3 || pos == kFc1Zero || pos == kFc2Zero || pos == kFc3Zero;
}

class QmoePlugin : public MoeFamilyPlugin<QmoePlugin, glue_qmoe::Glue>
{
public:
    using MoeFamilyPlugin::MoeFamilyPlugin;

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
            return false;
        if (pos == 0)
            return isSupported(d.type);
        if (pos >= nbInputs)
            return d.type == inOut[0].desc.type;
        if (isPacked(pos))
            return d.type == DataType::kUINT8;
        if (pos == kFc1Global || pos == kFc2Global)
            return d.type == DataType::kFLOAT;
        bool const scales = pos == kFc1Scales || pos == kFc2Scales || pos == kFc3Scales;
        // MXFP4's E8M0 scales: their bytes as uint8 (TensorRT has no E8M0 type; the rewrite reinterprets).
        return d.type == (scales && params().quant_type == "fp4" ? DataType::kUINT8 : inOut[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        QmoeProblem p{};
        auto const shape = [&](int32_t i) { return TensorShape::of(in[i].dims); };
        std::string const problem = qmoeCheckShapes(params(), shapesOf(in, TensorShape::of(out[0].dims), shape), p);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    //! MoE's scratch for input's largest shape.
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const> out) const
    {
        QmoeProblem p{};
        auto const shape = [&](int32_t i) { return TensorShape::of(in[i].max); };
        QmoeShapes const s = shapesOf(in, TensorShape::of(out[0].max), shape);
        return qmoeCheckShapes(params(), s, p).empty() ? moeWorkspaceBytes(p.moe) : 0;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        QmoeProblem p{};
        auto const shape = [&](int32_t i) { return TensorShape::of(in[i].dims); };
        QmoeShapes const s = shapesOf(in, TensorShape::of(out[0].dims), shape);
        if (!toDType(in[kInput].type, dtype) || !qmoeCheckShapes(params(), s, p).empty())
        {
            return cudaErrorInvalidValue;
        }
        auto optional = [&](int32_t i) -> void const* { return given(in, i) ? inputs[i] : nullptr; };
        p.moe.input = inputs[kInput];
        p.moe.router = inputs[kRouter];
        p.moe.fc1Bias = optional(kFc1Bias);
        p.moe.fc2Bias = optional(kFc2Bias);
        p.moe.fc3Bias = optional(kFc3Bias);
        p.moe.routerWeights = optional(kRouterWeights);
        p.moe.output = outputs[0];
        p.fc1 = QmoeProjection{inputs[kFc1], inputs[kFc1Scales], optional(kFc1Zero), p.fc1.bits, optional(kFc1Global)};
        p.fc2 = QmoeProjection{inputs[kFc2], inputs[kFc2Scales], optional(kFc2Zero), p.fc2.bits, optional(kFc2Global)};
        p.fc3 = QmoeProjection{optional(kFc3), optional(kFc3Scales), optional(kFc3Zero), p.fc3.bits};
        // TensorRT gives at least what workspaceSize asked for input's largest shape, which covers this one.
        return launchQmoe(dtype, p, workspace, moeWorkspaceBytes(p.moe), stream);
    }

private:
    //! An optional input is given when present and non-empty.
    template <class D>
    static bool given(Span<D const> in, int32_t i) noexcept
    {
        return i < in.size() && dimsOf(in[i]).nbDims > 0 && volume(dimsOf(in[i])) > 0;
    }

    static nvinfer1::Dims const& dimsOf(Desc const& d) noexcept { return d.dims; }
    static nvinfer1::Dims const& dimsOf(DynDesc const& d) noexcept { return d.max; }

    //! Shapes of the call from `shape(i)` (the dims or the largest dims); absent inputs empty.
    template <class D, class Shape>
    static QmoeShapes shapesOf(Span<D const> in, TensorShape const& y, Shape shape)
    {
        auto opt = [&](int32_t i) { return given(in, i) ? shape(i) : TensorShape{}; };
        MoeShapes const moe{shape(kInput), shape(kRouter), shape(kFc1), opt(kFc1Bias), shape(kFc2), opt(kFc2Bias),
            opt(kFc3), opt(kFc3Bias), y};
        return QmoeShapes{moe, shape(kFc1Scales), shape(kFc2Scales), opt(kFc3Scales), opt(kFc1Zero), opt(kFc2Zero),
            opt(kFc3Zero), opt(kRouterWeights), opt(kFc1Global), opt(kFc2Global)};
    }
};

TRTPLUG_REGISTER_PLUGIN(QmoePlugin);

} // namespace
} // namespace trtplug
