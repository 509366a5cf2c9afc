// TrtplugDet: the shared batched-matrix adapter over launchDet (spec: plugins/det/spec.toml).
#include "common/batched_matrix_plugin.h"
#include "det/det.h"
#include "det/op_glue.h"

namespace trtplug
{
namespace
{

struct DetTraits
{
    using Glue = glue_det::Glue;
    static constexpr bool kPerMatrixScalar = true;
    static cudaError_t launch(DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream)
    {
        return launchDet(dtype, x, y, batch, m, stream);
    }
};

using DetPlugin = BatchedMatrixPlugin<DetTraits>;
TRTPLUG_REGISTER_PLUGIN(DetPlugin);

} // namespace
} // namespace trtplug
