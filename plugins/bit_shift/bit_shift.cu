#include "bit_shift/bit_shift.h"
#include "common/int_elementwise.cuh"

#include <type_traits>

namespace trtplug
{
namespace
{

template <class T>
__device__ __forceinline__ bool inRange(T shift)
{
    if constexpr (std::is_signed_v<T>)
    {
        if (shift < 0)
        {
            return false;
        }
    }
    return static_cast<uint64_t>(shift) < sizeof(T) * 8;
}

struct ShiftLeftOp
{
    template <class T>
    __device__ __forceinline__ T operator()(T x, T shift) const
    {
        using U = std::make_unsigned_t<T>;
        // Through the unsigned type: bits moved past the sign bit are discarded, no UB.
        return inRange(shift) ? static_cast<T>(static_cast<U>(static_cast<U>(x) << shift)) : T{0};
    }
};

struct ShiftRightOp
{
    template <class T>
    __device__ __forceinline__ T operator()(T x, T shift) const
    {
        if (inRange(shift))
        {
            return static_cast<T>(x >> shift); // arithmetic for signed T (C++20 semantics; nvcc does so)
        }
        if constexpr (std::is_signed_v<T>)
        {
            return x < 0 ? T{-1} : T{0};
        }
        return T{0};
    }
};

} // namespace

cudaError_t launchBitShiftLeft(
    DType dtype, void const* x, void const* y, void* z, Broadcast const& shape, cudaStream_t stream) noexcept
{
    return launchIntElementwise<ShiftLeftOp>(dtype, x, y, z, shape, stream);
}

cudaError_t launchBitShiftRight(
    DType dtype, void const* x, void const* y, void* z, Broadcast const& shape, cudaStream_t stream) noexcept
{
    return launchIntElementwise<ShiftRightOp>(dtype, x, y, z, shape, stream);
}

} // namespace trtplug
