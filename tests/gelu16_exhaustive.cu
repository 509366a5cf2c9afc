// Exhaustive host check of gelu16 (plugins/common/gelu16.cuh): every finite fp16 and bf16 input, and
// every 97th float in [2^-40, 16) of both signs (BiasGelu's float x + bias), compared with GELU in
// double (0.5 x erfc(-x / sqrt 2): the erfc form keeps the negative tail's relative accuracy), both
// rounded to the 16-bit type. gelu16 runs with its two SFU results (ex2, rcp) at the nominal value
// and pushed to both ends of twice their documented error (9 combinations): the device's float
// arithmetic is the same, so this covers every result the GPU can give. Fails (exit 1), listing the
// worst inputs, if any result is more than 1 ulp from the correctly rounded GELU, or if a special
// value (inf, NaN, +-0) differs from the erff form's. The erff form (host erff) is reported beside.
// -DGELU16_CRUDE swaps in the tanh approximation, which must fail: the check can fail.
// Built and run by tests/test_gelu16_exhaustive.py as host C++ (g++ with stand-ins for __host__,
// __device__, __forceinline__), no CUDA toolkit or GPU.
#include "common/gelu16.cuh"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace trtplug;

namespace
{

//! A 16-bit float format: fp16 (10 mantissa bits, bias 15) or bf16 (7, 127).
struct Format
{
    char const* name;
    int mant;
    int bias;
};
constexpr Format kFp16{"fp16", 10, 15};
constexpr Format kBf16{"bf16", 7, 127};

//! v rounded to nearest even in format f, as bits (overflow -> inf). Exact for float inputs too.
uint16_t roundTo(Format f, double v)
{
    uint16_t const sign = std::signbit(v) ? 0x8000 : 0;
    double const a = std::fabs(v);
    if (std::isnan(v))
    {
        return 0x7fff;
    }
    if (a == 0.0)
    {
        return sign;
    }
    int ex = 0;
    std::frexp(a, &ex); // a = m 2^ex, m in [0.5, 1)
    int const e = std::max(ex - 1, 1 - f.bias);
    double const r = std::nearbyint(std::ldexp(a, f.mant - e)); // significand, ties to even
    double const maxBits = std::ldexp(1.0, 15) - std::ldexp(1.0, f.mant); // inf's encoding
    double bits = r < std::ldexp(1.0, f.mant) ? r : std::ldexp(e + f.bias, f.mant) + (r - std::ldexp(1.0, f.mant));
    bits = std::min(bits, maxBits);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(bits));
}

float decode(Format f, uint16_t bits)
{
    int const expField = (bits & 0x7fff) >> f.mant;
    int const mantField = bits & ((1 << f.mant) - 1);
    double const mag = expField == 0 ? std::ldexp(mantField, 1 - f.bias - f.mant)
        : expField == (1 << (15 - f.mant)) - 1
        ? (mantField ? NAN : INFINITY)
        : std::ldexp(mantField + (1 << f.mant), expField - f.bias - f.mant);
    return static_cast<float>(bits & 0x8000 ? -mag : mag);
}

bool isNanBits(Format f, uint16_t b)
{
    return (b & 0x7fff) > (1 << 15) - (1 << f.mant); // above inf's encoding
}

//! Distance in ulps between two 16-bit values; NaN, and a zero of the other sign, are far from all.
int ulpDistance(Format f, uint16_t a, uint16_t b)
{
    if ((a & 0x7fff) == 0 && (b & 0x7fff) == 0)
    {
        return a == b ? 0 : 1 << 20;
    }
    if (isNanBits(f, a) || isNanBits(f, b))
    {
        return isNanBits(f, a) && isNanBits(f, b) ? 0 : 1 << 20;
    }
    auto ordered = [](uint16_t v) { return v & 0x8000 ? -static_cast<int>(v & 0x7fff) : static_cast<int>(v); };
    return std::abs(ordered(a) - ordered(b));
}

double geluDouble(double x)
{
    return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}

//! ex2 / rcp off by (1 + ex2Err) / (1 + rcpErr), then rounded and flushed like the .ftz SFU.
struct PerturbedSfu
{
    static inline double ex2Err = 0.0;
    static inline double rcpErr = 0.0;
    static float ex2(float v)
    {
        return gelu16_detail::flushSubnormal(static_cast<float>(std::exp2(static_cast<double>(v)) * (1.0 + ex2Err)));
    }
    static float rcp(float v)
    {
        return gelu16_detail::flushSubnormal(static_cast<float>((1.0 + rcpErr) / static_cast<double>(v)));
    }
};

float geluUnderTest(float x)
{
#ifdef GELU16_CRUDE
    float const u = 0.7978845608F * (x + 0.044715F * x * x * x);
    return 0.5F * x * (1.F + std::tanh(u));
#else
    return gelu16<PerturbedSfu>(x);
#endif
}

//! The current fp32 path, 0.5 x (1 + erff(x / sqrt 2)) (host erff standing in for CUDA's).
float geluErff(float x)
{
    return 0.5F * x * (1.F + erff(x * 0.70710678118654752F));
}

struct Tally
{
    int maxUlp = 0;
    long oneUlp = 0;
    long over = 0;
    long checked = 0;
    std::vector<std::pair<int, float>> worst; // (ulp, x) of the largest errors

    void add(int ulp, float x)
    {
        ++checked;
        maxUlp = std::max(maxUlp, ulp);
        oneUlp += ulp == 1;
        over += ulp > 1;
        if (ulp > 1)
        {
            worst.emplace_back(ulp, x);
            std::sort(worst.begin(), worst.end(), [](auto const& a, auto const& b) { return a.first > b.first; });
            worst.resize(std::min<size_t>(worst.size(), 8));
        }
    }

    void print(char const* what, Format f) const
    {
        std::printf("%s %s: max_ulp %d one_ulp %ld over_one %ld checked %ld\n", f.name, what, maxUlp, oneUlp, over,
            checked);
        for (auto const& [ulp, x] : worst)
        {
            std::printf("  worst %s %s: x=%.9g (%a) ulp=%d want=%.6g\n", f.name, what, x, x, ulp, geluDouble(x));
        }
    }
};

//! Worst distance of the function under test over the 9 SFU error combinations.
int worstUnderTest(Format f, float x, uint16_t want)
{
    constexpr double kEx2Err = 0x1p-21; // 2x the documented 2 ulp of ex2.approx
    constexpr double kRcpErr = 0x1p-22; // 2x the documented 1 ulp of rcp.approx
    int worst = 0;
    for (double e : {0.0, -kEx2Err, kEx2Err})
    {
        for (double r : {0.0, -kRcpErr, kRcpErr})
        {
            PerturbedSfu::ex2Err = e;
            PerturbedSfu::rcpErr = r;
            worst = std::max(worst, ulpDistance(f, roundTo(f, geluUnderTest(x)), want));
        }
    }
    return worst;
}

//! Non-finite inputs and zeros give what the erff form gives (same bits after rounding).
int checkSpecials(Format f)
{
    int bad = 0;
    for (float x : {INFINITY, -INFINITY, NAN, 0.F, -0.F, FLT_MAX, -FLT_MAX})
    {
        uint16_t const got = roundTo(f, geluUnderTest(x));
        uint16_t const want = roundTo(f, geluErff(x));
        bool const same = got == want || (isNanBits(f, got) && isNanBits(f, want));
        if (!same)
        {
            std::printf("special %s: x=%g got 0x%04x, erff form 0x%04x\n", f.name, x, got, want);
            ++bad;
        }
    }
    return bad;
}

long checkFormat(Format f, Format inputs, bool allBits)
{
    Tally fresh;
    Tally old;
    auto one = [&](float x) {
        uint16_t const want = roundTo(f, geluDouble(x));
        fresh.add(worstUnderTest(f, x, want), x);
        old.add(ulpDistance(f, roundTo(f, geluErff(x)), want), x);
    };
    if (allBits)
    {
        for (uint32_t bits = 0; bits < 0x10000; ++bits)
        {
            float const x = decode(inputs, static_cast<uint16_t>(bits));
            if (std::isfinite(x))
            {
                one(x);
            }
        }
    }
    else
    {
        for (uint32_t bits = 0x2b800000U; bits < 0x41800000U; bits += 97) // [2^-40, 16), every mantissa residue
        {
            float x;
            std::memcpy(&x, &bits, 4);
            one(x);
            one(-x);
        }
    }
    char const* what = allBits ? "gelu16" : "gelu16 float-sweep";
    fresh.print(what, f);
    old.print(allBits ? "erff" : "erff float-sweep", f);
    return fresh.over;
}

} // namespace

int main()
{
    long failures = 0;
    for (Format f : {kFp16, kBf16})
    {
        failures += checkFormat(f, f, true);
        failures += checkFormat(f, f, false);
        failures += checkSpecials(f);
    }
    std::printf("failures: %ld\n", failures);
    return failures == 0 ? 0 : 1;
}
