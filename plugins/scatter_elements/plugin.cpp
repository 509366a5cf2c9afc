// TrtplugScatterElements: the shared scatter adapter over launchScatterElements (spec:
// plugins/scatter_elements/spec.toml). Fields: axis (negative counts from the end), reduction.
#include "common/scatter_plugin.h"
#include "scatter_elements/scatter_elements.h"

namespace trtplug
{
namespace
{

struct ScatterElementsParams
{
    int32_t axis{0};
    std::string reduction{"none"};

    template <class V>
    void visit(V& v)
    {
        v("axis", axis);
        v("reduction", reduction);
    }

    int32_t resolvedAxis(int32_t rank) const
    {
        TRTPLUG_ENSURE(axis >= -rank && axis < rank,
            "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
        return axis < 0 ? axis + rank : axis;
    }
};

struct ScatterElementsTraits
{
    static constexpr char const* kName = "TrtplugScatterElements";
    using Params = ScatterElementsParams;

    static void check(Params const& p, nvinfer1::Dims const& data, nvinfer1::Dims const& indices,
        nvinfer1::Dims const& updates)
    {
        int32_t const axis = p.resolvedAxis(data.nbDims);
        TRTPLUG_ENSURE(indices.nbDims == data.nbDims && updates.nbDims == data.nbDims,
            "indices and updates must have data's rank");
        for (int32_t d = 0; d < data.nbDims; ++d)
        {
            TRTPLUG_ENSURE(indices.d[d] == updates.d[d], "indices and updates must have one shape");
            TRTPLUG_ENSURE(d == axis || updates.d[d] <= data.d[d], "updates exceed data along axis " + std::to_string(d));
        }
    }

    static cudaError_t launch(Params const& p, DType dtype, Span<nvinfer1::PluginTensorDesc const> in,
        void const* const* inputs, void* out, ScatterReduction reduction, cudaStream_t stream)
    {
        nvinfer1::Dims const& data = in[0].dims;
        return launchScatterElements(dtype, inputs[0], static_cast<int64_t const*>(inputs[1]), inputs[2], out,
            data.nbDims, data.d, in[2].dims.d, p.resolvedAxis(data.nbDims), reduction, stream);
    }
};

using ScatterElementsPlugin = ScatterPlugin<ScatterElementsTraits>;
TRTPLUG_REGISTER_PLUGIN(ScatterElementsPlugin);

} // namespace
} // namespace trtplug
