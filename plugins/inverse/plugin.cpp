// TrtplugInverse: the shared batched-matrix adapter over launchInverse (spec: plugins/inverse/spec.toml).
#include "common/batched_matrix_plugin.h"
#include "inverse/inverse.h"

namespace trtplug
{
namespace
{

struct InverseTraits
{
    static constexpr char const* kName = "TrtplugInverse";
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
