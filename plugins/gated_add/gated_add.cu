// GatedAdd's kernel: one elementwise pass (common/elementwise.cuh's runUnrolled) over groups of N
// elements of X and Y, each group inside one row of C, whose gate is read once per group: a thread
// per 16-byte vector where C is a multiple of the vector and the buffers are aligned, a thread per
// element otherwise (any C).
#include "common/elementwise.cuh"
#include "gated_add/gated_add.h"

#include <algorithm>

namespace trtplug
{
namespace
{

//! output = X + round_to_T(Y * gate) for one group of N elements; C is a multiple of N, so group g
//! lies in row g / (C / N).
template <typename T, int N>
struct GatedAddOp
{
    using V = Vec<T, N>;
    struct Frag
    {
        V x;
        V y;
        T gate;
    };

    V const* x;
    V const* y;
    T const* gate;
    V* out;
    FastDivmod rowGroups;

    __device__ __forceinline__ void load(uint32_t g, Frag& f) const
    {
        f.x = x[g];
        f.y = y[g];
        f.gate = gate[rowGroups.div(g)];
    }

    __device__ __forceinline__ void store(uint32_t g, Frag const& f) const
    {
        float const gateValue = toFloat(f.gate);
        V o;
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            // The product rounded to T on its own (__fmul_rn/__fadd_rn: never contracted into an FMA),
            // as ONNX Runtime's separate Mul and Add round it.
            float const product = toFloat(fromFloat<T>(__fmul_rn(toFloat(f.y.v[i]), gateValue)));
            o.v[i] = fromFloat<T>(__fadd_rn(toFloat(f.x.v[i]), product));
        }
        out[g] = o;
    }

    GatedAddOp offset(int64_t groups) const
    {
        GatedAddOp o = *this;
        o.x += groups;
        o.y += groups;
        o.out += groups;
        o.gate += groups / rowGroups.divisor; // chunks start at a row's first group
        return o;
    }
};

template <typename T, int N>
cudaError_t launchWidth(GatedAddArgs const& args, cudaStream_t stream)
{
    using Op = GatedAddOp<T, N>;
    using V = typename Op::V;
    int64_t const rowGroups = args.cols / N;
    Op const op{static_cast<V const*>(args.x), static_cast<V const*>(args.y), static_cast<T const*>(args.gate),
        static_cast<V*>(args.out), FastDivmod(static_cast<uint32_t>(rowGroups))};
    return runUnrolled(op, args.n / N, rowGroups, stream);
}

template <typename T>
cudaError_t launchTyped(GatedAddArgs const& args, cudaStream_t stream)
{
    constexpr int kVec = 16 / sizeof(T);
    bool const vectors = args.cols % kVec == 0 && isAligned(args.x, 16) && isAligned(args.y, 16)
        && isAligned(args.out, 16);
    return vectors ? launchWidth<T, kVec>(args, stream) : launchWidth<T, 1>(args, stream);
}

} // namespace

std::string gatedAddShapes(GatedAddArgs& args, TensorShape const& x, TensorShape const& y, TensorShape const& gate)
{
    if (x.rank < 1)
    {
        return "X must have rank >= 1";
    }
    if (y.rank != x.rank || !std::equal(x.d, x.d + x.rank, y.d))
    {
        return "Y must have the same shape as X (X " + x.text() + ", Y " + y.text() + ")";
    }
    if (gate.rank != x.rank)
    {
        return "gate must have the same rank as X (X " + x.text() + ", gate " + gate.text() + ")";
    }
    int32_t const last = x.rank - 1;
    if (x.d[last] <= 0)
    {
        return "X last dimension must be positive, got " + std::to_string(x.d[last]);
    }
    if (gate.d[last] != 1)
    {
        return "gate last dimension must be 1, got " + std::to_string(gate.d[last]);
    }
    auto const* differs = std::mismatch(x.d, x.d + last, gate.d).first;
    if (differs != x.d + last)
    {
        return "gate dimension " + std::to_string(differs - x.d) + " must match X (X " + x.text() + ", gate "
            + gate.text() + ")";
    }
    args.cols = x.d[last];
    args.n = x.volume();
    return {};
}

cudaError_t launchGatedAdd(GatedAddArgs const& args, cudaStream_t stream) noexcept
{
    if (args.n == 0)
    {
        return cudaSuccess;
    }
    bool const missing = args.x == nullptr || args.y == nullptr || args.gate == nullptr || args.out == nullptr;
    if (missing || args.n < 0 || args.cols <= 0 || args.n % args.cols != 0 || args.cols > INT32_MAX)
    {
        return cudaErrorInvalidValue;
    }
    return forFloatOrBf16Type(args.dtype, [&](auto zero) { return launchTyped<decltype(zero)>(args, stream); });
}

} // namespace trtplug
