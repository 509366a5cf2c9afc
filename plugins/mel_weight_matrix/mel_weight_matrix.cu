#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "mel_weight_matrix/mel_weight_matrix.h"

#include <cmath>

namespace trtplug
{
namespace
{

// Every double operation below is an explicit _rn intrinsic: nvcc would otherwise contract
// a * b + c into one fma, and the reference rounds each NumPy operation on its own; a filter
// edge is a floor, so one rounding difference can move it by a whole bin.
constexpr double kLn10 = 2.302585092994045684; // np.log(10), correctly rounded

//! NumPy's float floor division (npy_divmod in npy_math_internal.h), for b > 0: fmod is exact,
//! then (a - mod) / b is rounded to the nearest whole number.
__device__ double numpyFloorDivide(double a, double b)
{
    double mod = fmod(a, b);
    double div = __ddiv_rn(__dsub_rn(a, mod), b);
    if (mod != 0.0 && (mod < 0.0) != (b < 0.0))
    {
        div = __dsub_rn(div, 1.0);
    }
    if (div == 0.0)
    {
        return copysign(0.0, __ddiv_rn(a, b));
    }
    double floordiv = floor(div);
    if (__dsub_rn(div, floordiv) > 0.5)
    {
        floordiv = __dadd_rn(floordiv, 1.0);
    }
    return floordiv;
}

//! 2595 * log1p(hz / 700) / log(10) as NumPy computes it for a float32 hz: the first three
//! operations in float32 (log1p rounded once from float64: within NumPy's float32 log1p's
//! accuracy), the division by np.log(10) in float64.
__device__ double melOf(float hz)
{
    float const ratio = __fdiv_rn(hz, 700.0f);
    float const logged = static_cast<float>(log1p(static_cast<double>(ratio)));
    return __ddiv_rn(static_cast<double>(__fmul_rn(2595.0f, logged)), kLn10);
}

struct MelScale
{
    double lowMel;
    double melStep;
    double dftPlusOne;
    double sampleRate;
};

//! Filter edge k (0 <= k < mels + 2): the spectrogram bin of mel lowMel + k * melStep.
__device__ int64_t melEdge(MelScale const& s, int64_t k)
{
    double const mel = __dadd_rn(__dmul_rn(static_cast<double>(k), s.melStep), s.lowMel);
    double const hz = __dmul_rn(700.0, expm1(__dmul_rn(__ddiv_rn(mel, 2595.0), kLn10)));
    return static_cast<int64_t>(numpyFloorDivide(__dmul_rn(s.dftPlusOne, hz), s.sampleRate));
}

__device__ int64_t loadInt(void const* p, bool is64)
{
    return is64 ? *static_cast<int64_t const*>(p) : static_cast<int64_t>(*static_cast<int32_t const*>(p));
}

__device__ void store(float* p, double v) { *p = __double2float_rn(v); }
__device__ void store(__half* p, double v) { *p = __double2half(v); }
__device__ void store(__nv_bfloat16* p, double v) { *p = __double2bfloat16(v); }

//! The weight of row j in the filter with edges lo <= c <= hi: the reference's rising loop
//! writes [lo, c], its falling loop then [c, hi), so c holds 1 and each side its own ratio.
__device__ double triangle(int64_t j, int64_t lo, int64_t c, int64_t hi)
{
    if (j == c)
    {
        return 1.0;
    }
    if (j >= lo && j < c)
    {
        return __ddiv_rn(static_cast<double>(j - lo), static_cast<double>(c - lo));
    }
    if (j > c && j < hi)
    {
        return __ddiv_rn(static_cast<double>(hi - j), static_cast<double>(hi - c));
    }
    return 0.0;
}

//! The scale, or false for inputs the reference refuses (see the launcher's comment).
__device__ bool melScale(int64_t dft, int64_t rate, float lower, float upper, int64_t mels, int64_t rows, MelScale& s)
{
    if (dft < 2 || rate < 1 || !isfinite(lower) || !isfinite(upper) || !(lower >= 0.0f) || !(upper >= lower))
    {
        return false;
    }
    double const lowMel = melOf(lower);
    s = MelScale{lowMel, __ddiv_rn(__dsub_rn(melOf(upper), lowMel), static_cast<double>(mels + 2)),
        static_cast<double>(dft + 1), static_cast<double>(rate)};
    // The highest row a filter writes: the last centre, or the row before the last upper edge.
    int64_t const last = max(melEdge(s, mels), melEdge(s, mels + 1) - 1);
    return last < rows && last <= dft / 2;
}

// One thread per output element (grid-stride, 64-bit indices); each recomputes its filter's
// three edges (and the validity check's two): a few expm1 per element of a small matrix.
template <class T>
__global__ void melWeightMatrix(void const* dftLength, void const* sampleRate, bool int64Inputs,
    float const* __restrict__ lowerEdge, float const* __restrict__ upperEdge, T* __restrict__ out, int64_t rows,
    int64_t mels)
{
    int64_t const count = rows * mels;
    int64_t const dft = loadInt(dftLength, int64Inputs);
    int64_t const rate = loadInt(sampleRate, int64Inputs);
    MelScale s{};
    bool const valid = melScale(dft, rate, *lowerEdge, *upperEdge, mels, rows, s);
    int64_t const stride = int64_t{gridDim.x} * blockDim.x;
    for (int64_t e = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < count; e += stride)
    {
        int64_t const j = e / mels;
        int64_t const i = e - j * mels;
        double const v = valid ? triangle(j, melEdge(s, i), melEdge(s, i + 1), melEdge(s, i + 2)) : nan("");
        store(out + e, v);
    }
}

} // namespace

cudaError_t launchMelWeightMatrix(DType outType, DType intType, void const* dftLength, void const* sampleRate,
    float const* lowerEdge, float const* upperEdge, void* out, int64_t rows, int64_t mels,
    cudaStream_t stream) noexcept
{
    if (rows < 0 || mels < 0 || (intType != DType::kINT32 && intType != DType::kINT64))
    {
        return cudaErrorInvalidValue;
    }
    if (rows == 0 || mels == 0)
    {
        return cudaSuccess;
    }
    if (rows > INT64_MAX / mels)
    {
        return cudaErrorInvalidValue;
    }
    bool const int64Inputs = intType == DType::kINT64;
    return forFloatOrBf16Type(outType, [&](auto zero) {
        using T = decltype(zero);
        melWeightMatrix<T><<<gridFor(rows * mels), kBlockThreads, 0, stream>>>(
            dftLength, sampleRate, int64Inputs, lowerEdge, upperEdge, static_cast<T*>(out), rows, mels);
        return cudaGetLastError();
    });
}

} // namespace trtplug
