// TrtplugUnique: the IPluginV3 adapter over launchUnique (spec: plugins/unique/spec.toml). One
// input X; outputs Y, indices, inverse_indices, counts (all always produced), then the 0-D int32
// size tensor holding the unique count U, the data-dependent extent of Y's axis (or length),
// indices and counts: getOutputShapes declares it with IExprBuilder::declareSizeTensor, TensorRT
// allocates those outputs for U's upper bound and enqueue writes them packed for the actual U.
#include "common/plugin_base.h"
#include "common/plugin_shapes.h"
#include "common/trt_dtype.h"
#include "unique/op_glue.h"
#include "unique/unique.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

bool isSupported(DataType t) noexcept
{
    return isFloatOrBf16OrIndex(t);
}

constexpr int32_t kY = 0;
constexpr int32_t kInverse = 2;
constexpr int32_t kCount = 4; // the size tensor

// Identity, fields, defaults and value rules: generated from the spec.
class UniquePlugin : public GluePlugin<UniquePlugin, glue_unique::Glue>
{
public:
    using GluePlugin::GluePlugin;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isSupported(in[0]),
            std::string("X must be float32, float16, bfloat16, int32 or int64, got ") + trtTypeName(in[0]));
        out[kY] = in[0];
        out[1] = out[kInverse] = out[3] = DataType::kINT64;
        out[kCount] = DataType::kINT32; // size tensors must be INT32
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        int32_t const axis = resolvedAxis(x.nbDims);
        nvinfer1::IDimensionExpr const* rows = axis < 0 ? volumeExpr(x, expr) : x.d[axis];
        // The unique count: at most one per compared element (slice); used directly as a dim.
        nvinfer1::IDimensionExpr const* n = declareCount(expr, out.data, kCount, *rows);
        out[kY] = axis < 0 ? DimsExprs{} : x;
        if (axis < 0)
        {
            out[kY].nbDims = 1;
        }
        out[kY].d[axis < 0 ? 0 : axis] = n;
        for (int32_t i = 1; i < 4; ++i)
        {
            out[i] = DimsExprs{};
            out[i].nbDims = 1;
            out[i].d[0] = i == kInverse ? rows : n;
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        switch (pos)
        {
        case 0: return isSupported(d.type);
        case 1 + kY: return d.type == inOut[0].desc.type;
        case 1 + kCount: return d.type == DataType::kINT32;
        default: return d.type == DataType::kINT64;
        }
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const>)
    {
        UniqueDims dims{};
        TRTPLUG_ENSURE(uniqueDims(in[0].dims.d, in[0].dims.nbDims, params().axis, dims),
            "axis " + std::to_string(params().axis) + " out of range for X of rank " + std::to_string(in[0].dims.nbDims));
        TRTPLUG_ENSURE(dims.rows <= kUniqueMaxRows, "more than 2**31 - 2 elements (or slices) to compare");
    }

    //! Scratch for X's largest shape (launchUnique's need grows with every dim).
    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        DType dtype{};
        UniqueDims dims{};
        nvinfer1::Dims const& max = in[0].max;
        if (!toDType(in[0].desc.type, dtype) || !uniqueDims(max.d, max.nbDims, params().axis, dims))
        {
            return 0;
        }
        return uniqueWorkspaceBytes(dtype, dims);
    }

    // Everything comes from X's desc: the outputs' data-dependent dims are only upper bounds here.
    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        UniqueDims dims{};
        if (!toDType(in[0].type, dtype) || !uniqueDims(in[0].dims.d, in[0].dims.nbDims, params().axis, dims))
        {
            return cudaErrorInvalidValue;
        }
        return launchUnique(dtype, inputs[0], dims, params().sorted != 0, outputs[kY],
            static_cast<int64_t*>(outputs[1]), static_cast<int64_t*>(outputs[kInverse]),
            static_cast<int64_t*>(outputs[3]), static_cast<int32_t*>(outputs[kCount]), workspace,
            uniqueWorkspaceBytes(dtype, dims), stream);
    }

private:
    //! Field `axis` made non-negative for X's rank; -1 for flattened (kAxisAbsent).
    int32_t resolvedAxis(int32_t rank) const
    {
        int32_t const axis = params().axis;
        if (axis == kAxisAbsent)
        {
            return -1;
        }
        TRTPLUG_ENSURE(axis >= -rank && axis < rank,
            "axis " + std::to_string(axis) + " out of range for X of rank " + std::to_string(rank));
        return axis < 0 ? axis + rank : axis;
    }
};

TRTPLUG_REGISTER_PLUGIN(UniquePlugin);

} // namespace
} // namespace trtplug
