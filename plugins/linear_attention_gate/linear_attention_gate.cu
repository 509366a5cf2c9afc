// LinearAttentionGate's kernel: one elementwise pass (common/elementwise.cuh's runUnrolled) over
// groups of N elements of a (and b), the per-head float32 vectors read at the group's head.
#include "common/activations.cuh"
#include "common/elementwise.cuh"
#include "common/vector_io.cuh"
#include "linear_attention_gate/linear_attention_gate.h"

#include <cmath>
#include <type_traits>

namespace trtplug
{
namespace
{

__device__ __forceinline__ float softplus(float v)
{
    return v > 0.F ? v + log1pf(expf(-v)) : log1pf(expf(v)); // no overflow for large |v|
}

// 16-bit outputs (11 or 8 significant bits) take the hardware approximations (ex2, lg2: ~2^-21
// relative): with the exact expf/log1pf the fp16/bf16 gate was compute-bound on the H200 (36-46%
// of copy, where fp32, with half the elements per byte, reached 97%). fp32 stays exact.
template <typename T>
__device__ __forceinline__ float softplusOf(float v)
{
    if constexpr (std::is_same_v<T, float>)
    {
        return softplus(v);
    }
    else
    {
        float const e = __expf(-fabsf(v)); // softplus(v) = max(v, 0) + log1p(exp(-|v|))
        // below 1e-3, log1p(e) = e (1 - e / 2) within e^2 / 3: relative precision in the tail
        return fmaxf(v, 0.F) + (e < 1e-3F ? e * (1.F - 0.5F * e) : __logf(1.F + e));
    }
}

//! decay (and beta when kBeta) of one group of N elements; heads is a multiple of N, so a
//! group's elements are heads (g mod heads/N) * N + i.
template <typename T, int N, bool kBeta>
struct GateOp
{
    using V = Vec<T, N>;
    struct Frag
    {
        V a;
        V b;
        uint32_t head;
    };

    V const* a;
    V const* b;
    float const* dtBias;
    float const* decayScale;
    V* decay;
    V* beta;
    FastDivmod headGroups;

    __device__ __forceinline__ void load(uint32_t g, Frag& f) const
    {
        f.a = a[g];
        if constexpr (kBeta)
        {
            f.b = b[g];
        }
        f.head = headGroups.mod(g) * N;
    }

    //! Few instructions an element: at 8 bytes moved per 16-bit element, the H200's copy rate
    //! leaves ~60 instructions an element at full issue, and the first version spent 61 (ncu: bf16
    //! at 39% of DRAM peak, fp16 56%, 103 / 70 registers), with scalar loads of the per-head
    //! vectors, an IEEE reciprocal in the sigmoid and one conversion per element.
    __device__ __forceinline__ void store(uint32_t g, Frag const& f) const
    {
        float bias[N];
        float scale[N];
        loadFloats(dtBias + f.head, bias);
        loadFloats(decayScale + f.head, scale);
        float d[N];
#pragma unroll
        for (int i = 0; i < N; ++i)
        {
            d[i] = scale[i] * softplusOf<T>(toFloat(f.a.v[i]) + bias[i]);
        }
        decay[g] = fromFloats<T>(d);
        if constexpr (kBeta)
        {
            float s[N];
#pragma unroll
            for (int i = 0; i < N; ++i)
            {
                s[i] = sigmoidFor<T>(toFloat(f.b.v[i]));
            }
            beta[g] = fromFloats<T>(s);
        }
    }

    GateOp offset(int64_t groups) const
    {
        GateOp o = *this;
        o.a += groups;
        o.decay += groups;
        o.b = kBeta ? b + groups : b;
        o.beta = kBeta ? beta + groups : beta;
        return o;
    }
};

template <typename T, int N, bool kBeta>
cudaError_t launchGroups(LinearAttentionGateArgs const& args, cudaStream_t stream)
{
    using Op = GateOp<T, N, kBeta>;
    using V = typename Op::V;
    int64_t const headGroups = args.heads / N;
    Op const op{static_cast<V const*>(args.a), static_cast<V const*>(args.b), args.dtBias, args.decayScale,
        static_cast<V*>(args.decay), static_cast<V*>(args.beta), FastDivmod(static_cast<uint32_t>(headGroups))};
    // 16-bit groups two deep: four deep held 98 registers (bf16) and left 2 blocks an SM
    constexpr int kDepth = sizeof(T) == 2 ? 2 : kUnroll;
    return runUnrolled<Op, kBlockThreads, kDepth>(op, args.n / N, headGroups, stream); // chunks start at head 0
}

template <typename T, int N>
cudaError_t launchWidth(LinearAttentionGateArgs const& args, cudaStream_t stream)
{
    return args.beta != nullptr ? launchGroups<T, N, true>(args, stream) : launchGroups<T, N, false>(args, stream);
}

template <typename T>
cudaError_t launchTyped(LinearAttentionGateArgs const& args, cudaStream_t stream)
{
    constexpr int kVec = 16 / sizeof(T);
    bool const vectors = args.heads % kVec == 0 && isAligned(args.a, 16) && isAligned(args.b, 16)
        && isAligned(args.decay, 16) && isAligned(args.beta, 16) && isAligned(args.dtBias, 16)
        && isAligned(args.decayScale, 16);
    return vectors ? launchWidth<T, kVec>(args, stream) : launchWidth<T, 1>(args, stream);
}

std::string elements(char const* name, int64_t want, int64_t got)
{
    return std::string(name) + " must have " + std::to_string(want) + " elements, got " + std::to_string(got);
}

} // namespace

std::string linearAttentionGateShapes(LinearAttentionGateArgs& args, TensorShape const& a, TensorShape const& dtBias,
    TensorShape const& decayScale, TensorShape const* b, bool wantsBeta)
{
    if (a.rank < 1 || a.d[a.rank - 1] <= 0)
    {
        return "a must have rank >= 1 and a positive last dimension";
    }
    args.heads = a.d[a.rank - 1];
    args.n = a.volume();
    if (dtBias.volume() != args.heads)
    {
        return elements("dt_bias", args.heads, dtBias.volume());
    }
    if (decayScale.volume() != args.heads)
    {
        return elements("decay_scale", args.heads, decayScale.volume());
    }
    if (!wantsBeta)
    {
        return {};
    }
    if (b == nullptr)
    {
        return "The b input is required when the beta output is requested";
    }
    bool same = b->rank == a.rank;
    for (int32_t i = 0; same && i < a.rank; ++i)
    {
        same = b->d[i] == a.d[i];
    }
    return same ? std::string{} : "b must have the same shape as a";
}

cudaError_t launchLinearAttentionGate(LinearAttentionGateArgs const& args, cudaStream_t stream) noexcept
{
    if (args.n == 0)
    {
        return cudaSuccess;
    }
    bool const missing = args.a == nullptr || args.dtBias == nullptr || args.decayScale == nullptr
        || args.decay == nullptr || (args.beta != nullptr && args.b == nullptr);
    if (missing || args.n < 0 || args.heads <= 0 || args.n % args.heads != 0 || args.heads > INT32_MAX)
    {
        return cudaErrorInvalidValue;
    }
    return forFloatOrBf16Type(args.dtype, [&](auto zero) { return launchTyped<decltype(zero)>(args, stream); });
}

} // namespace trtplug
