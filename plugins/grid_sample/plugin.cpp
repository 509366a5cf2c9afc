// TrtplugGridSample, TrtplugMmcvGridSampler: one IPluginV3 adapter over launchGridSample,
// instantiated per member's generated glue (identity, fields and their value rules; spec:
// plugins/grid_sample/spec.toml). Y's shape is (N, C, *grid's output dims): a function of the
// input shapes alone.
#include "common/plugin_base.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "grid_sample/grid_sample.h"
#include "grid_sample/op_glue.h"

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
class GridSamplePlugin : public GluePlugin<GridSamplePlugin<Glue>, Glue>
{
public:
    using GluePlugin<GridSamplePlugin<Glue>, Glue>::GluePlugin;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[0]), std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == in[0], std::string("grid must have X's type, got ") + trtTypeName(in[1]));
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& x = in[0];
        DimsExprs const& grid = in[1];
        TRTPLUG_ENSURE(x.nbDims >= 3 && x.nbDims <= 5,
            "X must have rank 3, 4 or 5 (N, C and 1-3 spatial dims), got rank " + std::to_string(x.nbDims));
        TRTPLUG_ENSURE(grid.nbDims == x.nbDims,
            "grid must have X's rank " + std::to_string(x.nbDims) + ", got " + std::to_string(grid.nbDims));
        out[0].nbDims = x.nbDims;
        out[0].d[0] = x.d[0];
        out[0].d[1] = x.d[1];
        for (int32_t a = 1; a + 1 < grid.nbDims; ++a)
        {
            out[0].d[a + 1] = grid.d[a];
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
        TensorShape const y = TensorShape::of(out[0].dims);
        std::string const problem = checkGridSampleShapes(TensorShape::of(in[0].dims), TensorShape::of(in[1].dims), &y);
        TRTPLUG_ENSURE(problem.empty(), problem);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        TensorShape const x = TensorShape::of(in[0].dims);
        TensorShape const grid = TensorShape::of(in[1].dims);
        if (!toDType(in[0].type, dtype) || !checkGridSampleShapes(x, grid, nullptr).empty())
        {
            return cudaErrorInvalidValue;
        }
        return launchGridSample(dtype, gridSampleConfig(this->params()), x, grid, inputs[0], inputs[1], outputs[0], stream);
    }
};

using OnnxGridSamplePlugin = GridSamplePlugin<glue_onnx_grid_sample::Glue>;
using MmcvGridSamplerPlugin = GridSamplePlugin<glue_mmcv_grid_sampler::Glue>;
TRTPLUG_REGISTER_PLUGIN(OnnxGridSamplePlugin);
TRTPLUG_REGISTER_PLUGIN(MmcvGridSamplerPlugin);

} // namespace
} // namespace trtplug
