// TrtplugCenterCropPad: the IPluginV3 adapter over launchCenterCropPad (spec:
// plugins/center_crop_pad/spec.toml). One input, input_data; one shape input, `shape`, whose
// values are the output lengths of the axes in field `axes` (every axis when empty).
#include "center_crop_pad/center_crop_pad.h"
#include "center_crop_pad/center_crop_pad_axes.h"
#include "center_crop_pad/op_glue.h"
#include "common/plugin_base.h"
#include "common/trt_dtype.h"

#include <string>
#include <vector>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

bool isSupported(DataType t) noexcept
{
    return isFloatOrBf16OrIndex(t);
}

// Identity, fields and counts: generated from the spec.
class CenterCropPadPlugin : public GluePlugin<CenterCropPadPlugin, glue_center_crop_pad::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[0]),
            std::string("input_data must be float32, float16, bfloat16, int32 or int64, got ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        TRTPLUG_ENSURE(shapeIn.size() == 1, "expected the shape input 'shape' (tensorrt_plugin_shape_input_indices), "
                "got " + std::to_string(shapeIn.size()) + " shape inputs");
        std::vector<int32_t> const axes = resolvedAxes(in[0].nbDims);
        TRTPLUG_ENSURE(shapeIn[0].nbDims == static_cast<int32_t>(axes.size()),
            "shape has " + std::to_string(shapeIn[0].nbDims) + " values for " + std::to_string(axes.size()) + " axes");
        out[0] = in[0];
        for (size_t i = 0; i < axes.size(); ++i)
        {
            out[0].d[axes[i]] = shapeIn[0].d[i];
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
        TRTPLUG_ENSURE(in[0].dims.nbDims == out[0].dims.nbDims, "output_data must have input_data's rank");
        TRTPLUG_ENSURE(in[0].type == out[0].type, "output_data must have input_data's type");
        std::string const problem = centerCropPadDimsProblem(
            in[0].dims.nbDims, in[0].dims.d, out[0].dims.d, resolvedAxes(in[0].dims.nbDims));
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        return launchCenterCropPad(
            dtype, inputs[0], outputs[0], in[0].dims.nbDims, in[0].dims.d, out[0].dims.d, stream);
    }

private:
    //! Field `axes` made non-negative and checked against `rank`; every axis when empty.
    std::vector<int32_t> resolvedAxes(int32_t rank) const
    {
        std::vector<int32_t> axes;
        std::string const problem = centerCropPadAxes(params().axes, rank, axes);
        TRTPLUG_ENSURE(problem.empty(), problem);
        return axes;
    }
};

TRTPLUG_REGISTER_PLUGIN(CenterCropPadPlugin);

} // namespace
} // namespace trtplug
