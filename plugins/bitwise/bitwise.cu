#include "bitwise/bitwise.h"
#include "common/int_elementwise.cuh"

namespace trtplug
{
namespace
{

template <BitwiseOp kOp>
struct BitwiseFunctor
{
    template <class T>
    __device__ __forceinline__ T operator()(T a, [[maybe_unused]] T b) const
    {
        if constexpr (kOp == BitwiseOp::kAnd)
        {
            return static_cast<T>(a & b);
        }
        else if constexpr (kOp == BitwiseOp::kOr)
        {
            return static_cast<T>(a | b);
        }
        else if constexpr (kOp == BitwiseOp::kXor)
        {
            return static_cast<T>(a ^ b);
        }
        else
        {
            return static_cast<T>(~a);
        }
    }
};

template <BitwiseOp kOp>
cudaError_t launchBitwise(
    DType dtype, void const* a, void const* b, void* y, Broadcast const& shape, cudaStream_t stream) noexcept
{
    constexpr bool kUnary = kOp == BitwiseOp::kNot;
    return launchIntElementwise<BitwiseFunctor<kOp>, kUnary>(dtype, a, kUnary ? nullptr : b, y, shape, stream);
}

} // namespace

IntElementwiseFn bitwiseLauncher(BitwiseOp op) noexcept
{
    switch (op)
    {
    case BitwiseOp::kAnd: return launchBitwise<BitwiseOp::kAnd>;
    case BitwiseOp::kOr: return launchBitwise<BitwiseOp::kOr>;
    case BitwiseOp::kXor: return launchBitwise<BitwiseOp::kXor>;
    case BitwiseOp::kNot: break;
    }
    return launchBitwise<BitwiseOp::kNot>;
}

} // namespace trtplug
