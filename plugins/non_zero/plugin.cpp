// TrtplugNonZero: the IPluginV3 adapter over launchNonZero (spec: plugins/non_zero/spec.toml).
// Input X (any element type TensorRT has, any rank, 0-D included). Outputs: Y, int64 [rank(X), N],
// whose N (the non-zero count) is data-dependent, and the size tensor holding N (output 1, 0-D
// int32): getOutputShapes declares it with IExprBuilder::declareSizeTensor, TensorRT allocates Y for
// N's upper bound (every element) and enqueue writes it packed for the actual N.
#include "common/plugin_base.h"
#include "common/plugin_shapes.h"
#include "common/tensor_shape.h"
#include "common/trt_dtype.h"
#include "non_zero/non_zero.h"
#include "non_zero/op_glue.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

// Identity, fields (none) and counts (Y, then its size tensor): generated from the spec.
class NonZeroPlugin : public GluePlugin<NonZeroPlugin, glue_non_zero::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(hasDType(in[0]), std::string("X: unsupported type ") + trtTypeName(in[0]));
        out[0] = DataType::kINT64;
        out[1] = DataType::kINT32; // size tensors must be INT32
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        out[0].nbDims = 2;
        out[0].d[0] = expr.constant(in[0].nbDims); // ONNX's [rank, N]: [0, N] for a 0-D X
        out[0].d[1] = declareCount(expr, out.data, 1, *volumeExpr(in[0], expr));
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        bool const typeOk = pos == 0 ? hasDType(d.type) : d.type == (pos == 1 ? DataType::kINT64 : DataType::kINT32);
        return d.format == nvinfer1::TensorFormat::kLINEAR && typeOk;
    }

    //! Checks X and sizes its scratch once per shape (CUB's size queries are host work each enqueue
    //! would otherwise repeat).
    void shapeChanged(Span<Desc const> in, Span<Desc const>)
    {
        int64_t const elements = TensorShape::of(in[0].dims).volume();
        TRTPLUG_ENSURE(elements <= kNonZeroMaxElements,
            "X has more than 2**31 - 1 elements (the count is an int32 size tensor)");
        mWorkspaceBytes = nonZeroWorkspaceBytes(elements);
    }

    //! Scratch for X's largest shape (the need grows with the element count).
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        return nonZeroWorkspaceBytes(TensorShape::of(in[0].max).volume());
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        TensorShape const shape = TensorShape::of(in[0].dims);
        return launchNonZero(dtype, inputs[0], shape, static_cast<int64_t*>(outputs[0]),
            static_cast<int32_t*>(outputs[1]), workspace, mWorkspaceBytes, stream);
    }

private:
    size_t mWorkspaceBytes = 0; // for the shape shapeChanged saw (a clone recomputes it there)
};

TRTPLUG_REGISTER_PLUGIN(NonZeroPlugin);

} // namespace
} // namespace trtplug
