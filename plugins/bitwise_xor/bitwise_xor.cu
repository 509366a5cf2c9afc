#include "bitwise_xor/bitwise_xor.h"
#include "common/int_elementwise.cuh"

namespace trtplug
{
namespace
{
struct XorOp
{
    template <class T>
    __device__ __forceinline__ T operator()(T a, T b) const
    {
        return static_cast<T>(a ^ b);
    }
};
} // namespace

cudaError_t launchBitwiseXor(
    DType dtype, void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept
{
    return launchIntElementwise<XorOp>(dtype, a, b, y, shape, stream);
}

} // namespace trtplug
