#include "bitwise_not/bitwise_not.h"
#include "common/int_elementwise.cuh"

namespace trtplug
{
namespace
{
struct NotOp
{
    template <class T>
    __device__ __forceinline__ T operator()(T a, T) const
    {
        return static_cast<T>(~a);
    }
};
} // namespace

cudaError_t launchBitwiseNot(
    DType dtype, void const* x, void const*, void* y, Broadcast const& shape, cudaStream_t stream) noexcept
{
    return launchIntElementwise<NotOp, true>(dtype, x, nullptr, y, shape, stream);
}

} // namespace trtplug
