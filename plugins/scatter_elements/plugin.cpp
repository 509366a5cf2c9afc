// TrtplugScatterElements: the shared scatter adapter over launchScatterElements (spec:
// plugins/scatter_elements/spec.toml). Fields: axis (negative counts from the end), reduction.
#include "common/scatter_plugin.h"
#include "scatter_elements/op_glue.h"
#include "scatter_elements/scatter_elements.h"

namespace trtplug
{
namespace
{

//! Field `axis` made non-negative for `rank`.
int32_t resolvedAxis(int32_t axis, int32_t rank)
{
    int32_t resolved = 0;
    TRTPLUG_ENSURE(scatterAxis(axis, rank, resolved),
        "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    return resolved;
}

struct ScatterElementsTraits
{
    using Glue = glue_scatter_elements::Glue;
    using Params = Glue::Params;

    static void check(Params const& p, nvinfer1::Dims const& data, nvinfer1::Dims const& indices,
        nvinfer1::Dims const& updates)
    {
        int32_t const axis = resolvedAxis(p.axis, data.nbDims);
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
            data.nbDims, data.d, in[2].dims.d, resolvedAxis(p.axis, data.nbDims), reduction, stream);
    }
};

using ScatterElementsPlugin = ScatterPlugin<ScatterElementsTraits>;
TRTPLUG_REGISTER_PLUGIN(ScatterElementsPlugin);

} // namespace
} // namespace trtplug
