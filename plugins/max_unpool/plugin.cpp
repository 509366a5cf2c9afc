// TrtplugMaxUnpool: the IPluginV3 adapter over launchMaxUnpool (spec: plugins/max_unpool/spec.toml).
// Inputs X (N, C, spatial...) and I (int64, X's shape); optional shape input output_shape.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "max_unpool/max_unpool.h"

#include <vector>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;

struct MaxUnpoolParams
{
    std::vector<int32_t> kernel_shape;
    std::vector<int32_t> pads;
    std::vector<int32_t> strides;

    template <class V>
    void visit(V& v)
    {
        v("kernel_shape", kernel_shape);
        v("pads", pads);
        v("strides", strides);
    }

    int32_t spatial() const { return static_cast<int32_t>(kernel_shape.size()); }
    int32_t stride(int32_t d) const { return strides.empty() ? 1 : strides[d]; }
    int32_t padSum(int32_t d) const { return pads.empty() ? 0 : pads[d] + pads[spatial() + d]; }
    //! Unpooled length of spatial axis d for an input length `in`.
    int64_t inferred(int32_t d, int64_t in) const { return (in - 1) * stride(d) - padSum(d) + kernel_shape[d]; }
};

class MaxUnpoolPlugin : public PluginBase<MaxUnpoolPlugin, MaxUnpoolParams>
{
public:
    static constexpr char const* kName = "TrtplugMaxUnpool";
    static constexpr char const* kVersion = "1";
    static constexpr int32_t kMinInputs = 2;
    static constexpr int32_t kMaxInputs = 2;
    static constexpr int32_t kNbOutputs = 1;

    explicit MaxUnpoolPlugin(MaxUnpoolParams params)
        : PluginBase(std::move(params))
    {
        MaxUnpoolParams const& p = this->params();
        int32_t const n = p.spatial();
        TRTPLUG_ENSURE(n >= 1 && n <= kMaxUnpoolMaxSpatial,
            "field 'kernel_shape' must have 1.." + std::to_string(kMaxUnpoolMaxSpatial) + " values");
        TRTPLUG_ENSURE(p.strides.empty() || static_cast<int32_t>(p.strides.size()) == n,
            "field 'strides' must be empty or have one value per kernel axis");
        TRTPLUG_ENSURE(p.pads.empty() || static_cast<int32_t>(p.pads.size()) == 2 * n,
            "field 'pads' must be empty or have two values per kernel axis");
        for (int32_t d = 0; d < n; ++d)
        {
            TRTPLUG_ENSURE(p.kernel_shape[d] > 0 && p.stride(d) > 0, "kernel_shape and strides must be positive");
            TRTPLUG_ENSURE(p.pads.empty() || (p.pads[d] >= 0 && p.pads[n + d] >= 0), "pads must be >= 0");
        }
    }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloat(in[0]), std::string("X must be float32 or float16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == DataType::kINT64, std::string("I must be int64, got ") + trtTypeName(in[1]));
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        int32_t const n = params().spatial();
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
                out[0].d[2 + d] = expr.constant(params().inferred(d, x->getConstantValue()));
                continue;
            }
            auto const* scaled = expr.operation(DimensionOperation::kPROD,
                *expr.operation(DimensionOperation::kSUB, *x, *expr.constant(1)), *expr.constant(params().stride(d)));
            out[0].d[2 + d] = expr.operation(
                DimensionOperation::kSUM, *scaled, *expr.constant(params().kernel_shape[d] - params().padSum(d)));
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloat(d.type) : pos == 1 ? d.type == DataType::kINT64 : d.type == inOut[0].desc.type;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        nvinfer1::Dims const& x = in[0].dims;
        nvinfer1::Dims const& y = out[0].dims;
        TRTPLUG_ENSURE(y.nbDims == x.nbDims && y.d[0] == x.d[0] && y.d[1] == x.d[1], "Y must have X's rank, N and C");
        for (int32_t d = 0; d < params().spatial(); ++d)
        {
            TRTPLUG_ENSURE(y.d[2 + d] >= params().inferred(d, x.d[2 + d]),
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
        for (int32_t d = 0; d < params().spatial(); ++d)
        {
            inferred[d] = params().inferred(d, x.d[2 + d]);
        }
        return launchMaxUnpool(dtype, inputs[0], static_cast<int64_t const*>(inputs[1]), outputs[0], volume(x),
            x.d[0] * x.d[1], params().spatial(), x.d + 2, inferred, out[0].dims.d + 2, workspace, stream);
    }
};

TRTPLUG_REGISTER_PLUGIN(MaxUnpoolPlugin);

} // namespace
} // namespace trtplug
