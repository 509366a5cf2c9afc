// TrtplugMatMulNBits: the IPluginV3 adapter over launchMatMulNBits (spec: plugins/matmul_nbits/spec.toml).
// Inputs A, B, scales and the optional zero_points, g_idx, bias (absent: left out when trailing,
// else empty tensors); output Y = A's shape with the last dim N. Large M needs B dequantized into
// the workspace (N * K elements of A's type), asked for A's largest shape.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "matmul_nbits/matmul_nbits.h"
#include "matmul_nbits/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

enum Input : int32_t
{
    kA = 0,
    kB,
    kScales,
    kZeroPoints,
    kGIdx,
    kBias,
};

bool isSupported(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

class MatMulNBitsPlugin : public GluePlugin<MatMulNBitsPlugin, glue_matmul_nbits::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[kA]), std::string("A must be float32, float16 or bfloat16, got ") + trtTypeName(in[kA]));
        out[0] = in[kA];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(in[kA].nbDims >= 1, "A must have rank >= 1");
        out[0] = in[kA];
        out[0].d[in[kA].nbDims - 1] = expr.constant(params().N);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        DataType const a = inOut[kA].desc.type;
        switch (pos < nbInputs ? pos : kMaxInputs + pos - nbInputs) // the output after the spec's inputs
        {
        case kA: return isSupported(d.type);
        case kB: return d.type == DataType::kUINT8;
        case kZeroPoints: return d.type == DataType::kUINT8 || d.type == a;
        case kGIdx: return d.type == DataType::kINT32;
        default: return d.type == a; // scales, bias, Y
        }
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        NBitsProblem p{};
        std::string const problem = nbitsCheckShapes(params(), shapesOf(in, out[0]), zeroPointsPacked(in), p);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    //! Dequantized B for the GEMM path, when A's largest shape has more rows than the GEMV takes.
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        DType dtype{};
        if (!toDType(in[kA].desc.type, dtype))
        {
            return 0;
        }
        int64_t const maxRows = volume(in[kA].max) / params().K;
        return nbitsWorkspaceBytes(dtype, maxRows, params().N, params().K);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        NBitsProblem p{};
        if (!toDType(in[kA].type, dtype)
            || !nbitsCheckShapes(params(), shapesOf(in, out[0]), zeroPointsPacked(in), p).empty())
        {
            return cudaErrorInvalidValue;
        }
        auto optional = [&](int32_t i) -> void const* {
            return i < in.size() && in[i].dims.nbDims > 0 && volume(in[i].dims) > 0 ? inputs[i] : nullptr;
        };
        p.a = inputs[kA];
        p.b = static_cast<uint8_t const*>(inputs[kB]);
        p.scales = inputs[kScales];
        p.zeroPoints = optional(kZeroPoints);
        p.gIdx = static_cast<int32_t const*>(optional(kGIdx));
        p.bias = optional(kBias);
        p.y = outputs[0];
        // TensorRT gives at least what workspaceSize asked for A's largest shape, which covers this one.
        return launchMatMulNBits(dtype, p, workspace, nbitsWorkspaceBytes(dtype, p.m, p.n, p.k), stream);
    }

private:
    static bool zeroPointsPacked(Span<Desc const> in) noexcept
    {
        return in.size() <= kZeroPoints || in[kZeroPoints].type == DataType::kUINT8;
    }

    static NBitsShapes shapesOf(Span<Desc const> in, Desc const& y) noexcept
    {
        auto shape = [&](int32_t i) { return i < in.size() ? TensorShape::of(in[i].dims) : TensorShape{}; };
        return NBitsShapes{shape(kA), shape(kB), shape(kScales), shape(kZeroPoints), shape(kGIdx), shape(kBias),
            TensorShape::of(y.dims)};
    }
};

TRTPLUG_REGISTER_PLUGIN(MatMulNBitsPlugin);

} // namespace
} // namespace trtplug
