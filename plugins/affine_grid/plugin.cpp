// TrtplugAffineGrid: the IPluginV3 adapter over launchAffineGrid (spec: plugins/affine_grid/spec.toml).
// One input, theta (N x 2 x 3 or N x 3 x 4); one shape input, size (N, C, [D,] H, W), whose
// values give the grid's dims: N x H x W x 2 or N x D x H x W x 3.
#include "affine_grid/affine_grid.h"
#include "affine_grid/op_glue.h"
#include "common/plugin_base.h"
#include "common/trt_dtype.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

// Identity, fields and the align_corners rule (choices 0, 1): generated from the spec.
class AffineGridPlugin : public GluePlugin<AffineGridPlugin, glue_affine_grid::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("theta must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const> shapeIn, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        TRTPLUG_ENSURE(shapeIn.size() == 1, "expected the shape input 'size' (tensorrt_plugin_shape_input_indices), got "
                + std::to_string(shapeIn.size()) + " shape inputs");
        DimsExprs const& size = shapeIn[0];
        DimsExprs const& theta = in[0];
        TRTPLUG_ENSURE(size.nbDims == 4 || size.nbDims == 5,
            "size must have 4 (2-D) or 5 (3-D) elements, got " + std::to_string(size.nbDims));
        int32_t const k = size.nbDims - 2; // spatial rank
        TRTPLUG_ENSURE(theta.nbDims == 3, "theta must have rank 3, got rank " + std::to_string(theta.nbDims));
        for (int32_t i = 1; i < 3; ++i)
        {
            int64_t const want = i == 1 ? k : k + 1;
            TRTPLUG_ENSURE(!theta.d[i]->isConstant() || theta.d[i]->getConstantValue() == want,
                "theta must be N x " + std::to_string(k) + " x " + std::to_string(k + 1) + " for a "
                    + std::to_string(k) + "-D size");
        }
        out[0].nbDims = k + 2;
        out[0].d[0] = size.d[0];
        for (int32_t i = 0; i < k; ++i)
        {
            out[0].d[1 + i] = size.d[2 + i];
        }
        out[0].d[k + 1] = expr.constant(k);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out) { check(in[0], out[0]); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        nvinfer1::Dims const& g = out[0].dims;
        bool const is3d = g.nbDims == 5;
        return launchAffineGrid(dtype, inputs[0], outputs[0], g.d[0], is3d ? g.d[1] : 0, g.d[is3d ? 2 : 1],
            g.d[is3d ? 3 : 2], is3d, params().align_corners != 0, stream);
    }

private:
    static void check(Desc const& theta, Desc const& grid)
    {
        TRTPLUG_ENSURE(grid.dims.nbDims == 4 || grid.dims.nbDims == 5, "grid must have rank 4 or 5");
        int64_t const k = grid.dims.nbDims - 2;
        TRTPLUG_ENSURE(theta.dims.nbDims == 3 && theta.dims.d[0] == grid.dims.d[0] && theta.dims.d[1] == k
                && theta.dims.d[2] == k + 1 && grid.dims.d[k + 1] == k,
            "theta must be N x " + std::to_string(k) + " x " + std::to_string(k + 1) + " with the grid's N");
        TRTPLUG_ENSURE(theta.type == grid.type && isFloatOrBf16(theta.type), "theta and grid must be one float type");
    }
};

TRTPLUG_REGISTER_PLUGIN(AffineGridPlugin);

} // namespace
} // namespace trtplug
