// TrtplugFastGelu: the IPluginV3 adapter over launchFastGelu (spec: plugins/fast_gelu/spec.toml).
// Inputs X (rank >= 1) and optional 1-D bias of X's last-dim length; Y has X's shape and type.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "fast_gelu/fast_gelu.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

bool isFloat(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF;
}

//! X and bias dims agree; -1 (unknown before the build resolves it) matches anything.
void checkDims(nvinfer1::Dims const& x, nvinfer1::Dims const* bias)
{
    TRTPLUG_ENSURE(x.nbDims >= 1, "X must have rank >= 1, got rank " + std::to_string(x.nbDims));
    if (bias == nullptr)
    {
        return;
    }
    TRTPLUG_ENSURE(bias->nbDims == 1, "bias must be 1-D, got rank " + std::to_string(bias->nbDims));
    int64_t const last = x.d[x.nbDims - 1];
    int64_t const len = bias->d[0];
    TRTPLUG_ENSURE(last < 0 || len < 0 || last == len,
        "bias length " + std::to_string(len) + " differs from X's last dimension " + std::to_string(last));
}

class FastGeluPlugin : public PluginBase<FastGeluPlugin>
{
public:
    static constexpr char const* kName = "TrtplugFastGelu";
    static constexpr char const* kVersion = "1";
    static constexpr int32_t kMinInputs = 1;
    static constexpr int32_t kMaxInputs = 2;
    static constexpr int32_t kNbOutputs = 1;

    using PluginBase::PluginBase;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloat(in[0]), std::string("X must be float32 or float16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in.size() == 1 || in[1] == in[0],
            std::string("bias must have X's type ") + trtTypeName(in[0]) + ", got " + trtTypeName(in[1]));
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims >= 1, "X must have rank >= 1, got rank " + std::to_string(x.nbDims));
        if (in.size() == 2)
        {
            DimsExprs const& b = in[1];
            TRTPLUG_ENSURE(b.nbDims == 1, "bias must be 1-D, got rank " + std::to_string(b.nbDims));
            auto const* last = x.d[x.nbDims - 1];
            // Symbolic dims are checked once known (configure/onShapeChange).
            TRTPLUG_ENSURE(!last->isConstant() || !b.d[0]->isConstant()
                    || last->getConstantValue() == b.d[0]->getConstantValue(),
                "bias length " + std::to_string(b.d[0]->getConstantValue()) + " differs from X's last dimension "
                    + std::to_string(last->getConstantValue()));
        }
        out[0] = x;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloat(d.type) : d.type == inOut[0].desc.type;
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const> out)
    {
        checkDims(in[0].desc.dims, in.size() == 2 ? &in[1].desc.dims : nullptr);
        checkTypes(in[0].desc.type, in.size() == 2 ? &in[1].desc.type : nullptr, out[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        checkDims(in[0].dims, in.size() == 2 ? &in[1].dims : nullptr);
        checkTypes(in[0].type, in.size() == 2 ? &in[1].type : nullptr, out[0].type);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        bool const hasBias = in.size() == 2;
        return launchFastGelu(dtype, inputs[0], hasBias ? inputs[1] : nullptr, outputs[0], volume(in[0].dims),
            hasBias ? volume(in[1].dims) : 0, stream);
    }

private:
    static void checkTypes(DataType x, DataType const* bias, DataType y)
    {
        TRTPLUG_ENSURE(isFloat(x), std::string("X must be float32 or float16, got ") + trtTypeName(x));
        TRTPLUG_ENSURE(bias == nullptr || *bias == x, "bias must have X's type");
        TRTPLUG_ENSURE(y == x, "Y must have X's type");
    }
};

TRTPLUG_REGISTER_PLUGIN(FastGeluPlugin);

} // namespace
} // namespace trtplug
