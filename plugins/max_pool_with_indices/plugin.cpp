// TrtplugMaxPoolWithIndices: the IPluginV3 adapter over launchMaxPoolWithIndices (spec:
// plugins/max_pool_with_indices/spec.toml). Input X (N, C, spatial...); outputs Y and Indices (int64).
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "max_pool_with_indices/max_pool_with_indices.h"

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

struct MaxPoolParams
{
    std::string auto_pad{"NOTSET"};
    int32_t ceil_mode{0};
    std::vector<int32_t> dilations;
    std::vector<int32_t> kernel_shape;
    std::vector<int32_t> pads;
    int32_t storage_order{0};
    std::vector<int32_t> strides;

    template <class V>
    void visit(V& v)
    {
        v("auto_pad", auto_pad);
        v("ceil_mode", ceil_mode);
        v("dilations", dilations);
        v("kernel_shape", kernel_shape);
        v("pads", pads);
        v("storage_order", storage_order);
        v("strides", strides);
    }

    int32_t spatial() const { return static_cast<int32_t>(kernel_shape.size()); }
    int32_t stride(int32_t d) const { return strides.empty() ? 1 : strides[d]; }
    int32_t dilation(int32_t d) const { return dilations.empty() ? 1 : dilations[d]; }
    int32_t pad(int32_t i) const { return pads.empty() ? 0 : pads[i]; }
    int64_t extent(int32_t d) const { return int64_t{kernel_shape[d] - 1} * dilation(d) + 1; }
    bool same() const { return auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER"; }

    //! Output length and leading pad of spatial axis d for input length `in` (ONNX MaxPool rules).
    void resolve(int32_t d, int64_t in, int64_t& out, int32_t& begin) const
    {
        int64_t const s = stride(d);
        if (same())
        {
            out = (in + s - 1) / s;
            int64_t const total = std::max<int64_t>((out - 1) * s + extent(d) - in, 0);
            begin = static_cast<int32_t>(auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2);
            return;
        }
        begin = auto_pad == "VALID" ? 0 : pad(d);
        int64_t const span = auto_pad == "VALID" ? in - extent(d) : in + pad(d) + pad(spatial() + d) - extent(d);
        if (span < 0)
        {
            out = -1; // the window is larger than the padded input (integer division would truncate to 0)
            return;
        }
        bool const ceil = ceil_mode != 0 && auto_pad != "VALID";
        out = ceil ? (span + s - 1) / s + 1 : span / s + 1;
        out -= ceil && (out - 1) * s >= in + begin ? 1 : 0;
    }
};

class MaxPoolWithIndicesPlugin : public PluginBase<MaxPoolWithIndicesPlugin, MaxPoolParams>
{
public:
    static constexpr char const* kName = "TrtplugMaxPoolWithIndices";
    static constexpr char const* kVersion = "1";
    static constexpr int32_t kMinInputs = 1;
    static constexpr int32_t kMaxInputs = 1;
    static constexpr int32_t kNbOutputs = 2;

    explicit MaxPoolWithIndicesPlugin(MaxPoolParams params)
        : PluginBase(std::move(params))
    {
        MaxPoolParams const& p = this->params();
        int32_t const n = p.spatial();
        TRTPLUG_ENSURE(n >= 1 && n <= kMaxPoolMaxSpatial, "field 'kernel_shape' must have 1..3 values");
        TRTPLUG_ENSURE(p.strides.empty() || static_cast<int32_t>(p.strides.size()) == n, "field 'strides': one per axis");
        TRTPLUG_ENSURE(p.dilations.empty() || static_cast<int32_t>(p.dilations.size()) == n,
            "field 'dilations': one per axis");
        TRTPLUG_ENSURE(p.pads.empty() || static_cast<int32_t>(p.pads.size()) == 2 * n, "field 'pads': two per axis");
        TRTPLUG_ENSURE(p.same() || p.auto_pad == "NOTSET" || p.auto_pad == "VALID",
            "field 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got \"" + p.auto_pad + "\"");
        for (int32_t d = 0; d < n; ++d)
        {
            TRTPLUG_ENSURE(p.kernel_shape[d] > 0 && p.stride(d) > 0 && p.dilation(d) > 0,
                "kernel_shape, strides and dilations must be positive");
        }
    }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloat(in[0]), std::string("X must be float32 or float16, got ") + trtTypeName(in[0]));
        out[0] = in[0];
        out[1] = DataType::kINT64;
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        int32_t const n = params().spatial();
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
        return pos == 0 ? isFloat(d.type) : pos == 1 ? d.type == inOut[0].desc.type : d.type == DataType::kINT64;
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
        PoolGeometry g;
        g.spatial = params().spatial();
        g.columnMajor = params().storage_order == 1;
        for (int32_t d = 0; d < g.spatial; ++d)
        {
            g.in[d] = x.d[2 + d];
            params().resolve(d, x.d[2 + d], g.out[d], g.begin[d]);
            g.kernel[d] = params().kernel_shape[d];
            g.stride[d] = params().stride(d);
            g.dilation[d] = params().dilation(d);
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
        MaxPoolParams const& p = params();
        if (in.isConstant())
        {
            int64_t out = 0;
            int32_t begin = 0;
            p.resolve(d, in.getConstantValue(), out, begin);
            TRTPLUG_ENSURE(out >= 0, "the window is larger than the padded input along axis " + std::to_string(d));
            return expr.constant(out);
        }
        auto const* s = expr.constant(p.stride(d));
        if (p.same())
        {
            return expr.operation(DimensionOperation::kCEIL_DIV, in, *s);
        }
        TRTPLUG_ENSURE(p.ceil_mode == 0, "ceil_mode 1 needs build-time spatial lengths");
        int64_t const shift = p.auto_pad == "VALID" ? 1 - p.extent(d) : p.pad(d) + p.pad(p.spatial() + d) - p.extent(d);
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
