#include "bitwise_and/bitwise_and.h"
#include "common/int_elementwise.cuh"

namespace trtplug
{
namespace
{
struct AndOp
{
    template <class T>
    __device__ __forceinline__ T operator()(T a, T b) const
    {
        return static_cast<T>(a & b);
    }
};
} // namespace

cudaError_t launchBitwiseAnd(
    DType dtype, void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept
{
    return launchIntElementwise<AndOp>(dtype, a, b, y, shape, stream);
}

} // namespace trtplug
