// TrtplugInverse: the shared batched-matrix adapter over launchInverse (spec: plugins/inverse/spec.toml).
#include "common/batched_matrix_plugin.h"
#include "inverse/inverse.h"
#include "inverse/op_glue.h"

namespace trtplug
{
namespace
{

struct InverseTraits
{
    using Glue = glue_inverse::Glue;
    static constexpr bool kPerMatrixScalar = false;
    static cudaError_t launch(DType dtype, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t stream)
    {
        return launchInverse(dtype, x, y, batch, m, stream);
    }
};

using InversePlugin = BatchedMatrixPlugin<InverseTraits>;
TRTPLUG_REGISTER_PLUGIN(InversePlugin);

} // namespace
} // namespace trtplug
