// TrtplugScatterND: the shared scatter adapter over launchScatterND (spec: plugins/scatter_nd/spec.toml).
#include "common/scatter_plugin.h"
#include "scatter_nd/op_glue.h"
#include "scatter_nd/scatter_nd.h"

namespace trtplug
{
namespace
{

struct ScatterNDTraits
{
    using Glue = glue_scatter_nd::Glue;
    using Params = Glue::Params;

    //! updates = indices.shape[:-1] + data.shape[k:], k = indices.shape[-1] <= rank(data).
    static void check(Params const&, nvinfer1::Dims const& data, nvinfer1::Dims const& indices,
        nvinfer1::Dims const& updates)
    {
        TRTPLUG_ENSURE(indices.nbDims >= 1, "indices must have rank >= 1");
        int64_t const k = indices.d[indices.nbDims - 1];
        TRTPLUG_ENSURE(k >= 1 && k <= data.nbDims, "indices.shape[-1] must be in 1..rank(data)");
        int32_t const expected = indices.nbDims - 1 + data.nbDims - static_cast<int32_t>(k);
        bool ok = updates.nbDims == expected;
        for (int32_t d = 0; ok && d < expected; ++d)
        {
            int32_t const batch = indices.nbDims - 1;
            ok = updates.d[d] == (d < batch ? indices.d[d] : data.d[k + d - batch]);
        }
        TRTPLUG_ENSURE(ok, "updates must have shape indices.shape[:-1] + data.shape[indices.shape[-1]:]");
    }

    static cudaError_t launch(Params const&, DType dtype, Span<nvinfer1::PluginTensorDesc const> in,
        void const* const* inputs, void* out, ScatterReduction reduction, cudaStream_t stream)
    {
        nvinfer1::Dims const& indices = in[1].dims;
        int64_t const k = indices.d[indices.nbDims - 1];
        int64_t const slices = k == 0 ? 0 : volume(indices) / k;
        return launchScatterND(dtype, inputs[0], static_cast<int64_t const*>(inputs[1]), inputs[2], out,
            in[0].dims.nbDims, in[0].dims.d, slices, static_cast<int32_t>(k), reduction, stream);
    }
};

using ScatterNDPlugin = ScatterPlugin<ScatterNDTraits>;
TRTPLUG_REGISTER_PLUGIN(ScatterNDPlugin);

} // namespace
} // namespace trtplug
