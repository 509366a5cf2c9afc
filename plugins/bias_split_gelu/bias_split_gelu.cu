#include "bias_split_gelu/bias_split_gelu.h"
#include "common/activations.cuh"
#include "common/elementwise.cuh"

namespace trtplug
{
namespace
{

//! One group = N output elements of a row; its inputs are the matching N of the left half and
//! N of the right half (halfGroups groups apart), plus the two matching bias groups.
template <typename T, int N>
struct BiasSplitGeluOp
{
    using V = Vec<T, N>;
    struct Frag
    {
        V left;
        V right;
        V biasLeft;
        V biasRight;
    };

    V const* x;
    V const* bias;
    V* y;
    FastDivmod halfGroups;

    __device__ __forceinline__ void load(uint32_t g, Frag& f) const
    {
        uint32_t const half = halfGroups.divisor;
        uint32_t const row = halfGroups.div(g);
        uint32_t const col = g - row * half;
        uint32_t const in = g + row * half; // row * 2 * half + col
        f.left = x[in];
        f.right = x[in + half];
        f.biasLeft = bias[col];
        f.biasRight = bias[col + half];
    }

    __device__ __forceinline__ void store(uint32_t g, Frag const& f) const
    {
        V out;
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            float const left = toFloat(f.left.v[i]) + toFloat(f.biasLeft.v[i]);
            float const right = toFloat(f.right.v[i]) + toFloat(f.biasRight.v[i]);
            out.v[i] = fromFloat<T>(left * activate<T>(GeluErfAct{}, right));
        }
        y[g] = out;
    }

    BiasSplitGeluOp offset(int64_t groups) const
    {
        BiasSplitGeluOp o = *this;
        o.x += 2 * groups; // chunks start on row boundaries
        o.y += groups;
        return o;
    }
};

//! Groups loaded a thread before the first store. bf16 vectors of 8 take 2, not 4: ptxas widens
//! each bf16 fragment to float32 as it lands, and four of them held 162 registers, 12.5% occupancy
//! (ncu, H100: 72.5% of DRAM bandwidth, 85% of copy in the bench, where fp16 and fp32 run at 101%).
template <typename T, int N>
constexpr int depthFor()
{
    return std::is_same_v<T, __nv_bfloat16> && N > 1 ? 2 : kUnroll;
}

template <typename T, int N>
cudaError_t launchWidth(void const* x, void const* bias, void* y, int64_t rows, int64_t half, cudaStream_t stream)
{
    using Op = BiasSplitGeluOp<T, N>;
    using V = typename Op::V;
    int64_t const halfGroups = half / N;
    if (halfGroups > INT32_MAX / 2)
    {
        return cudaErrorInvalidValue;
    }
    Op const op{static_cast<V const*>(x), static_cast<V const*>(bias), static_cast<V*>(y),
        FastDivmod(static_cast<uint32_t>(halfGroups))};
    return runUnrolled<Op, kBlockThreads, depthFor<T, N>()>(op, rows * halfGroups, halfGroups, stream);
}

template <typename T>
cudaError_t launchTyped(void const* x, void const* bias, void* y, int64_t rows, int64_t half, cudaStream_t stream)
{
    constexpr int kVec = 16 / sizeof(T);
    bool const vectorizable = half % kVec == 0 && isAligned(x, 16) && isAligned(bias, 16) && isAligned(y, 16);
    return vectorizable ? launchWidth<T, kVec>(x, bias, y, rows, half, stream)
                        : launchWidth<T, 1>(x, bias, y, rows, half, stream);
}

} // namespace

cudaError_t launchBiasSplitGelu(DType dtype, void const* x, void const* bias, void* y, int64_t rows, int64_t width,
    cudaStream_t stream) noexcept
{
    if (rows < 0 || width < 0 || width % 2 != 0)
    {
        return cudaErrorInvalidValue;
    }
    if (rows == 0 || width == 0)
    {
        return cudaSuccess; // empty tensors may come with null pointers
    }
    if (x == nullptr || bias == nullptr || y == nullptr)
    {
        return cudaErrorInvalidValue;
    }
    return forFloatOrBf16Type(
        dtype, [&](auto zero) { return launchTyped<decltype(zero)>(x, bias, y, rows, width / 2, stream); });
}

} // namespace trtplug
