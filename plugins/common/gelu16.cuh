// Exact GELU for 16-bit outputs (fp16, bf16): x * Phi(x), branch-free, in float32, as accurate as
// the 16-bit rounding needs and no more. CUDA's erff is exact to ~1e-7, which fp32 outputs need, but
// it branches on |x| (a mixed warp runs both paths), ~25 instructions an element: at 2 bytes an
// element that made the 16-bit kernels issue-bound. This is 13 (sm_90 SASS), 2 of them on the SFU.
//
// Formula, a = |x|:  Phi(-a) = exp(-a^2/2) * R(t),  t = 1 / (1 + p a),  R a degree-4 polynomial
// (R(t) ~ erfcx(a / sqrt 2) / 2, the Mills ratio over sqrt(2 pi), a smooth function of t on (0, 1]).
// Phi(x) is Phi(-a) for x < 0 (no 1 + erf cancellation: the negative tail keeps its relative
// accuracy down to bf16's subnormals) and 1 - Phi(-a) for x >= 0. Why the error is small enough:
//   - R: minimax fit (float64) of the relative error weighted by what each output needs: <= 6.7e-5
//     for a < 5.7, where fp16 results are nonzero (within 1 ulp of the correctly rounded result
//     needs < 2^-11 = 4.9e-4 there, looser where the result is subnormal), <= 5.9e-4 up to 13.7,
//     past the last nonzero bf16 result at 13.6 (bf16 needs 2^-8 = 3.9e-3). For x >= 0 the
//     relative error of 1 - q is q / (1 - q) <= 1 times that of q = Phi(-a) <= 1/2.
//   - exp(-a^2/2) = 2^e, e = 16 - a^2 log2(e) / 2 from one rounded product and one fma: |e| <= 16
//     where fp16 results are nonzero, so e's rounding costs <= 1e-6 relative. The offset 16 (2^-16
//     is folded into R's coefficients, exactly) keeps ex2's result normal (ex2.approx.ftz flushes
//     subnormals) up to a = 14.03, beyond which every result rounds to zero in fp16 and bf16.
//   - ex2.approx and rcp.approx err by a few 2^-24 relative.
// tests/gelu16_exhaustive.cu runs this same float arithmetic on the host for every finite fp16 and
// bf16 input and a dense sweep of float inputs (BiasGelu's x + bias), with the SFU results pushed to
// both ends of 2^-21 / 2^-22 relative: every result is within 1 ulp of GELU in double rounded to the
// type (and stays so with SFU errors of 2^-13). Specials are those of 0.5 x (1 + erff(x / sqrt 2)):
// +inf -> +inf, -inf -> NaN, NaN -> NaN, the sign of zero kept, large negative x -> -0.
#pragma once

#include <cfloat>
#include <cmath>

namespace trtplug
{

namespace gelu16_detail
{

//! a * b rounded once: on the device no fma contraction with a following add, so the device
//! evaluates the same float operations as the host test.
__host__ __device__ __forceinline__ float mulRn(float a, float b)
{
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

//! Host stand-in for the .ftz SFU results: subnormals flushed to +0.
__host__ __device__ __forceinline__ float flushSubnormal(float v)
{
    return v < FLT_MIN && v > -FLT_MIN ? 0.F : v;
}

} // namespace gelu16_detail

//! The two SFU operations of gelu16: one instruction each on the device (ex2.approx.ftz.f32,
//! rcp.approx.ftz.f32, subnormal results flushed); correctly rounded stand-ins on the host (the
//! exhaustive test substitutes a policy that errs by the documented bounds instead).
struct HardwareSfu
{
    __host__ __device__ __forceinline__ static float ex2(float v)
    {
#if defined(__CUDA_ARCH__)
        float r;
        asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
        return r;
#else
        return gelu16_detail::flushSubnormal(static_cast<float>(std::exp2(static_cast<double>(v))));
#endif
    }

    __host__ __device__ __forceinline__ static float rcp(float v)
    {
#if defined(__CUDA_ARCH__)
        float r;
        asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
        return r;
#else
        return gelu16_detail::flushSubnormal(static_cast<float>(1.0 / static_cast<double>(v)));
#endif
    }
};

//! GELU(x) = x Phi(x) for a result rounded to fp16 or bf16 (see the file comment for the error
//! bound). Sfu: the ex2 / rcp provider (HardwareSfu, or the test's perturbed one).
template <class Sfu = HardwareSfu>
__host__ __device__ __forceinline__ float gelu16(float x)
{
    using gelu16_detail::mulRn;
    // R(t) * 2^-16 (the ex2 offset below), t = 1 / (1 + kP a); fitted in float64, rounded to float.
    constexpr float kP = 0x1.d2f1aap-2F;
    constexpr float kC4 = -0x1.026a1ap-19F;
    constexpr float kC3 = 0x1.458d9cp-18F;
    constexpr float kC2 = 0x1.d8975ap-20F;
    constexpr float kC1 = 0x1.8c7f94p-19F;
    constexpr float kC0 = -0x1.8956d2p-27F;
    constexpr float kMinusHalfLog2e = -0.72134752044448170F; // -log2(e) / 2
    constexpr float kEx2Offset = 16.F;

    float const t = Sfu::rcp(fmaf(fabsf(x), kP, 1.F)); // in (0, 1]; 0 for |x| = inf
    float r = fmaf(kC4, t, kC3);
    r = fmaf(r, t, kC2);
    r = fmaf(r, t, kC1);
    r = fmaf(r, t, kC0);
    // 2^16 exp(-x^2 / 2): -inf (so 0) once x^2 overflows.
    float const scaledGauss = Sfu::ex2(fmaf(x, mulRn(x, kMinusHalfLog2e), kEx2Offset));
    float const lower = mulRn(scaledGauss, r);      // Phi(-|x|)
    float const upper = fmaf(-scaledGauss, r, 1.F); // Phi(|x|) = 1 - Phi(-|x|), one rounding
    // x * Phi(x) as the erff form has it: -inf * 0 = NaN, +inf * 1 = inf, -0 * Phi = -0. The |.|
    // (an operand modifier, free): R(t) < 0 for t < 0.004 (kC0 < 0), so lower is -0 for x < -560,
    // and x * -0 would be +0 where the erff form gives -0.
    return mulRn(x, fabsf(x < 0.F ? lower : upper));
}

} // namespace trtplug
