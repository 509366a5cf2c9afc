// Integer division by a run-time divisor that is fixed for a whole launch (tensor dims): index
// math of the memory-bound kernels. FastDivmod is the 32-bit multiply-high form; WideDivmod the
// plain 64-bit form with the same interface, for tensors past 2^31 elements (kernels template on
// the pair, see IndexMath). Included only from .cu files.
#pragma once

#include <cstdint>

namespace trtplug
{

//! n / d and n % d for 0 <= n < 2^31 and a run-time divisor 1 <= d <= INT32_MAX by multiply-high
//! and shift (Granlund-Montgomery, as in CUTLASS's FastDivmod): a few instructions instead of
//! the ~20 of a 32-bit integer division, which the bias index of every 16-byte group needs.
struct FastDivmod
{
    uint32_t divisor{1};
    uint32_t multiplier{0};
    uint32_t shift{0};

    FastDivmod() = default;
    explicit FastDivmod(uint32_t d)
        : divisor(d)
    {
        if (d > 1)
        {
            uint32_t ceilLog2 = 0;
            while ((uint64_t{1} << ceilLog2) < d)
            {
                ++ceilLog2;
            }
            uint32_t const p = 31 + ceilLog2;
            multiplier = static_cast<uint32_t>(((uint64_t{1} << p) + d - 1) / d);
            shift = p - 32;
        }
    }

    __host__ __device__ __forceinline__ uint32_t div(uint32_t n) const
    {
#ifdef __CUDA_ARCH__
        uint32_t const high = __umulhi(n, multiplier);
#else
        auto const high = static_cast<uint32_t>((uint64_t{n} * multiplier) >> 32);
#endif
        return divisor == 1 ? n : high >> shift;
    }

    __host__ __device__ __forceinline__ uint32_t mod(uint32_t n) const { return n - div(n) * divisor; }
};

//! n / d and n % d in 64 bits: the slow path of kernels whose tensors pass 2^31 elements.
struct WideDivmod
{
    int64_t divisor{1};

    WideDivmod() = default;
    explicit WideDivmod(int64_t d)
        : divisor(d)
    {
    }

    __host__ __device__ __forceinline__ int64_t div(int64_t n) const { return n / divisor; }
    __host__ __device__ __forceinline__ int64_t mod(int64_t n) const { return n % divisor; }
};

//! Index type and divider of a kernel instantiation: 32-bit (every index < 2^31) or 64-bit.
template <bool kWide>
struct IndexMath
{
    using Index = uint32_t;
    using Signed = int32_t;
    using Divmod = FastDivmod;
};

template <>
struct IndexMath<true>
{
    using Index = int64_t;
    using Signed = int64_t;
    using Divmod = WideDivmod;
};

} // namespace trtplug
