// TrtplugCol2Im: the IPluginV3 adapter over launchCol2Im (spec: plugins/col2im/spec.toml).
// Shape inputs image_shape and block_shape fix the output shape [N, C, image...], C = input
// dim 1 / prod(block_shape); their values never reach enqueue, so block_shape comes once more
// as a regular int64 input after `input` (the spec's data_copy), which the kernel reads.
#include "col2im/col2im.h"
#include "col2im/op_glue.h"
#include "common/plugin_base.h"
#include "common/trt_dtype.h"

#include <vector>

namespace trtplug
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DimensionOperation;
using nvinfer1::IDimensionExpr;

// Identity, fields and the value rules (dilations, strides >= 1, pads >= 0): generated from the spec.
class Col2ImPlugin : public GluePlugin<Col2ImPlugin, glue_col2im::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("input must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == DataType::kINT64,
            std::string("block_shape (device copy) must be int64, got ") + trtTypeName(in[1]));
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(shapeIn.size() == 2, "expected the shape inputs image_shape and block_shape "
                "(tensorrt_plugin_shape_input_indices), got " + std::to_string(shapeIn.size()) + " shape inputs");
        int32_t const spatial = shapeIn[0].nbDims;
        TRTPLUG_ENSURE(shapeIn[1].nbDims == spatial, "image_shape has " + std::to_string(spatial)
                + " values but block_shape " + std::to_string(shapeIn[1].nbDims));
        TRTPLUG_ENSURE(in[0].nbDims == 3, "input must be (N, C * prod(block_shape), L), got rank "
                + std::to_string(in[0].nbDims));
        TRTPLUG_ENSURE(in[1].nbDims == 1, "the block_shape device copy must be 1-D");
        Col2ImGeometry g = attributes(spatial);
        IDimensionExpr const* kernel = shapeIn[1].d[0];
        for (int32_t d = 1; d < spatial; ++d)
        {
            kernel = expr.operation(DimensionOperation::kPROD, *kernel, *shapeIn[1].d[d]);
        }
        out[0].nbDims = spatial + 2;
        out[0].d[0] = in[0].d[0];
        out[0].d[1] = expr.operation(DimensionOperation::kFLOOR_DIV, *in[0].d[1], *kernel);
        for (int32_t d = 0; d < spatial; ++d)
        {
            out[0].d[2 + d] = shapeIn[0].d[d];
        }
        checkConstantShapes(g, in[0], shapeIn);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : pos == 1 ? d.type == DataType::kINT64 : d.type == inOut[0].desc.type;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out) { geometry(in, out); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        return launchCol2Im(
            dtype, inputs[0], static_cast<int64_t const*>(inputs[1]), outputs[0], geometry(in, out), stream);
    }

private:
    //! Per-axis dilations, pads and strides for `spatial` axes (the fields' lengths checked).
    Col2ImGeometry attributes(int32_t spatial) const
    {
        Col2ImGeometry g{};
        g.spatial = spatial;
        std::string const problem = setCol2ImAttributes(g, params().dilations, params().pads, params().strides);
        TRTPLUG_ENSURE(problem.empty(), problem);
        return g;
    }

    //! The launch geometry of concrete shapes: input (N, C * K, L), block copy (S), output (N, C, image...).
    Col2ImGeometry geometry(Span<Desc const> in, Span<Desc const> out) const
    {
        nvinfer1::Dims const& x = in[0].dims;
        nvinfer1::Dims const& y = out[0].dims;
        TRTPLUG_ENSURE(in[1].dims.nbDims == 1, "the block_shape device copy must be 1-D");
        Col2ImGeometry g{};
        std::string const problem = setCol2ImGeometry(
            g, x.nbDims, x.d, y.nbDims, y.d, in[1].dims.d[0], params().dilations, params().pads, params().strides);
        TRTPLUG_ENSURE(problem.empty(), problem);
        return g;
    }

    //! Where the shape inputs are build-time constants: positive block lengths, input dim 1 a
    //! multiple of prod(block_shape), L the number of block positions.
    static void checkConstantShapes(Col2ImGeometry& g, DimsExprs const& x, Span<DimsExprs const> shapeIn)
    {
        int64_t kernel = 1;
        int64_t columns = 1;
        for (int32_t d = 0; d < g.spatial; ++d)
        {
            if (!shapeIn[0].d[d]->isConstant() || !shapeIn[1].d[d]->isConstant())
            {
                return;
            }
            int64_t const block = shapeIn[1].d[d]->getConstantValue();
            g.image[d] = shapeIn[0].d[d]->getConstantValue();
            TRTPLUG_ENSURE(block >= 1 && g.image[d] >= 0, "block_shape values must be >= 1, image_shape >= 0");
            kernel *= block;
            columns *= col2ImBlockCount(g, d, block);
        }
        TRTPLUG_ENSURE(!x.d[1]->isConstant() || x.d[1]->getConstantValue() % kernel == 0,
            "input dim 1 must be a multiple of prod(block_shape) = " + std::to_string(kernel));
        TRTPLUG_ENSURE(!x.d[2]->isConstant() || x.d[2]->getConstantValue() == columns,
            "input dim 2 (L) must be the number of block positions, " + std::to_string(columns));
    }
};

TRTPLUG_REGISTER_PLUGIN(Col2ImPlugin);

} // namespace
} // namespace trtplug
