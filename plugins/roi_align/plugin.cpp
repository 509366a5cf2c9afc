// TrtplugRoiAlign, TrtplugRoiAlignOpset10, TrtplugMmcvRoiAlign: one IPluginV3 adapter over
// launchRoiAlign, instantiated per member's generated glue (identity, fields and their value rules;
// spec: plugins/roi_align/spec.toml). ONNX members take (X, rois (K, 4), batch_indices int64),
// mmcv's (X, rois (K, 5)); Y is (K, C, output_height, output_width).
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "roi_align/op_glue.h"
#include "roi_align/roi_align.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

bool isSupported(DataType t) noexcept
{
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

template <class Glue>
class RoiAlignPlugin : public GluePlugin<RoiAlignPlugin<Glue>, Glue>
{
public:
    using GluePlugin<RoiAlignPlugin<Glue>, Glue>::GluePlugin;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;
    static constexpr bool kBatchInput = Glue::kMaxInputs == 3; //!< ONNX: batch_indices

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[0]), std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == in[0], std::string("rois must have X's type, got ") + trtTypeName(in[1]));
        TRTPLUG_ENSURE(!kBatchInput || in[2] == DataType::kINT64,
            std::string("batch_indices must be int64, got ") + trtTypeName(in[kBatchInput ? 2 : 0]));
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(in[0].nbDims == 4, "X must be (N, C, H, W), got rank " + std::to_string(in[0].nbDims));
        TRTPLUG_ENSURE(in[1].nbDims == 2, "rois must have rank 2, got " + std::to_string(in[1].nbDims));
        out[0].nbDims = 4;
        out[0].d[0] = in[1].d[0];
        out[0].d[1] = in[0].d[1];
        out[0].d[2] = expr.constant(this->params().output_height);
        out[0].d[3] = expr.constant(this->params().output_width);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        if (pos == 0)
        {
            return isSupported(d.type);
        }
        return (kBatchInput && pos == 2) ? d.type == DataType::kINT64 : d.type == inOut[0].desc.type;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        TensorShape const y = TensorShape::of(out[0].dims);
        std::string const problem = check(in, &y);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype) || !check(in, nullptr).empty())
        {
            return cudaErrorInvalidValue;
        }
        auto const* batch = kBatchInput ? static_cast<int64_t const*>(inputs[2]) : nullptr;
        return launchRoiAlign(dtype, roiAlignConfig(this->params()), TensorShape::of(in[0].dims), in[1].dims.d[0],
            inputs[0], inputs[1], batch, outputs[0], stream);
    }

private:
    std::string check(Span<Desc const> in, TensorShape const* y) const
    {
        TensorShape const batch = kBatchInput ? TensorShape::of(in[2].dims) : TensorShape{};
        return checkRoiAlignShapes(roiAlignConfig(this->params()), TensorShape::of(in[0].dims),
            TensorShape::of(in[1].dims), kBatchInput ? &batch : nullptr, y);
    }
};

using OnnxRoiAlignPlugin = RoiAlignPlugin<glue_onnx_roi_align::Glue>;
using OnnxRoiAlignOpset10Plugin = RoiAlignPlugin<glue_onnx_roi_align_opset10::Glue>;
using MmcvRoiAlignPlugin = RoiAlignPlugin<glue_mmcv_roi_align::Glue>;
TRTPLUG_REGISTER_PLUGIN(OnnxRoiAlignPlugin);
TRTPLUG_REGISTER_PLUGIN(OnnxRoiAlignOpset10Plugin);
TRTPLUG_REGISTER_PLUGIN(MmcvRoiAlignPlugin);

} // namespace
} // namespace trtplug
