// Host emulation of the DFT/STFT untiled pack and unpack (plugins/dft/dft_pack.cuh): packRowsKernel's grid
// (rows across blocks and blockDim.y, a row's elements across blockDim.x, grid-stride) run on the
// CPU through packRowPart, for random DFT layouts (outer, inner < 16, cut or zero-padded lengths,
// real or complex input, R2C / C2C / C2R with its real bins) and STFT framings (frames every step
// samples, a window), in float, half and bfloat16, against the definitions; outputs poisoned first.
// The unpack the same way: unpackRowsKernel's grid through unpackRowPart, every output element
// (R2C full with its mirrored bins, onesided, C2C, C2R) against the scaled spectrum.
// Built and run by tests/test_dft_pack_emulation.py where nvcc exists (no GPU needed).
#include "dft/dft_pack.cuh"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace trtplug;
using namespace trtplug::dft;

namespace
{

int failures = 0;
int cases = 0;

//! A rows kernel's loops (packRowsKernel, unpackRowsKernel) with the launchers' block shape
//! (packRowsBlock of the row length) and a small grid (so rows stride): part(b, firstK, kStep).
template <class Part>
void emulateRows(int64_t rows, int64_t len, int64_t blocks, Part part)
{
    dim3 const block = packRowsBlock(len);
    int const threads = static_cast<int>(block.x), rowsPerBlock = static_cast<int>(block.y);
    for (int64_t bx = 0; bx < blocks; ++bx)
        for (int ty = 0; ty < rowsPerBlock; ++ty)
            for (int tx = 0; tx < threads; ++tx)
                for (int64_t b = bx * rowsPerBlock + ty; b < rows; b += blocks * rowsPerBlock)
                    part(b, tx, threads);
}

//! Element (b, k) by the definitions: a DFT row (o, i) = b reads x[o, k, i, :]; an STFT row
//! (signal, frame) = b reads x[signal, frame * step + k, :] times window[k].
template <class T>
void expected(PackArgs<T> const& a, std::vector<T> const& x, std::vector<T> const& w, int64_t b, int64_t k,
    float& re, float& im)
{
    re = im = 0.F;
    if (k >= a.inLen)
    {
        return;
    }
    int64_t at = 0;
    if (a.frame.step > 0)
    {
        int64_t const signal = b / a.frame.frames, frame = b % a.frame.frames;
        at = (signal * a.frame.signalLen + frame * a.frame.step + k) * a.inComps;
    }
    else
    {
        int64_t const o = b / a.inner, i = b % a.inner;
        at = ((o * a.inLen + k) * a.inner + i) * a.inComps;
    }
    float const scale = w.empty() ? 1.F : toFloat(w[k]);
    re = toFloat(x[at]) * scale;
    bool const dropped = a.realBin >= 0 && (k == 0 || k == a.realBin);
    im = a.inComps == 2 && !dropped ? toFloat(x[at + 1]) * scale : 0.F;
}

template <class T>
void check(PackArgs<T> a, std::vector<T> const& x, std::vector<T> const& w, int64_t blocks, char const* what)
{
    ++cases;
    int64_t const comps = a.realOut ? 1 : 2;
    std::vector<float> packed(static_cast<size_t>(a.rows * a.len * comps), NAN);
    a.x = x.data();
    a.window = w.empty() ? nullptr : w.data();
    a.packed = packed.data();
    emulateRows(a.rows, a.len, blocks, [&](int64_t b, int64_t k, int64_t step) { packRowPart(a, b, k, step); });
    for (int64_t b = 0; b < a.rows; ++b)
        for (int64_t k = 0; k < a.len; ++k)
        {
            float re, im;
            expected(a, x, w, b, k, re, im);
            float const* got = &packed[static_cast<size_t>((b * a.len + k) * comps)];
            bool const ok = got[0] == re && (a.realOut || got[1] == im); // NaN (unwritten) fails
            if (!ok && failures++ < 10)
                std::printf("FAIL %s rows %lld len %lld at (%lld, %lld): %g %g vs %g %g\n", what,
                    (long long) a.rows, (long long) a.len, (long long) b, (long long) k, got[0],
                    a.realOut ? 0.F : got[1], re, im);
        }
}

template <class T>
std::vector<T> randomValues(std::mt19937& rng, int64_t count)
{
    std::uniform_real_distribution<float> value(-2.F, 2.F);
    std::vector<T> v(static_cast<size_t>(count));
    for (auto& e : v)
        e = fromFloat<T>(value(rng));
    return v;
}

template <class T>
void dftCase(std::mt19937& rng)
{
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    int const kind = static_cast<int>(pick(0, 2)); // R2C, C2C, C2R
    int64_t const outer = pick(1, 5), inner = pick(1, 15), inLen = pick(1, 300), n = pick(1, 300);
    int32_t const inComps = kind == 0 ? 1 : static_cast<int32_t>(pick(1, 2));
    int64_t const len = kind == 2 ? n / 2 + 1 : n;
    int64_t const realBin = kind != 2 ? -1 : (n % 2 == 0 ? n / 2 : 0);
    PackArgs<T> a{nullptr, nullptr, nullptr, outer * inner, len, inLen, inner, inComps, kind == 0, realBin, {}};
    check(a, randomValues<T>(rng, outer * inLen * inner * inComps), {}, pick(1, 9), "dft");
}

template <class T>
void stftCase(std::mt19937& rng)
{
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    int64_t const signals = pick(1, 3), frameLen = pick(1, 420), step = pick(1, 200);
    int64_t const frames = pick(1, 12), signalLen = (frames - 1) * step + frameLen + pick(0, 30);
    int32_t const inComps = static_cast<int32_t>(pick(1, 2));
    FrameSource const frame{frames, step, signalLen};
    PackArgs<T> a{nullptr, nullptr, nullptr, signals * frames, frameLen, frameLen, 1, inComps, inComps == 1, -1,
        frame};
    std::vector<T> const window = pick(0, 3) == 0 ? std::vector<T>{} : randomValues<T>(rng, frameLen);
    check(a, randomValues<T>(rng, signals * signalLen * inComps), window, pick(1, 9), "stft");
}

//! An unpack of random spectra: R2C full (mirrored bins) or onesided, C2C, C2R (one component),
//! y poisoned with NaN, every element against y[o, k, i, :] = spectrum[o * inner + i, k] * scale.
template <class T>
void unpackCase(std::mt19937& rng)
{
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    int const kind = static_cast<int>(pick(0, 3)); // R2C full, R2C onesided, C2C, C2R
    int64_t const outer = pick(1, 5), inner = pick(1, 15), n = pick(1, 300);
    int64_t const specLen = kind <= 1 ? n / 2 + 1 : n, outLen = kind == 1 ? specLen : n;
    bool const realIn = kind == 3;
    int64_t const comps = realIn ? 1 : 2;
    float const scale = pick(0, 1) == 0 ? 1.F : 1.F / static_cast<float>(n);
    std::vector<float> spectrum(static_cast<size_t>(outer * inner * specLen * comps));
    std::uniform_real_distribution<float> value(-2.F, 2.F);
    for (auto& v : spectrum)
        v = value(rng);
    std::vector<T> y(static_cast<size_t>(outer * outLen * inner * comps), fromFloat<T>(NAN));
    UnpackArgs<T> const a{spectrum.data(), y.data(), outer * inner, outLen, inner, specLen, n, scale, realIn};
    emulateRows(a.rows, a.outLen, pick(1, 9),
        [&](int64_t b, int64_t k, int64_t step) { unpackRowPart(a, b, k, step); });
    ++cases;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < outLen; ++k)
            for (int64_t i = 0; i < inner; ++i)
            {
                int64_t const b = o * inner + i;
                bool const mirrored = k >= specLen;
                float const* c = &spectrum[static_cast<size_t>((b * specLen + (mirrored ? n - k : k)) * comps)];
                T const* got = &y[static_cast<size_t>(((o * outLen + k) * inner + i) * comps)];
                bool ok = toFloat(got[0]) == toFloat(fromFloat<T>(c[0] * scale));
                if (!realIn)
                    ok = ok && toFloat(got[1]) == toFloat(fromFloat<T>((mirrored ? -c[1] : c[1]) * scale));
                if (!ok && failures++ < 10)
                    std::printf("FAIL unpack kind %d outer %lld inner %lld n %lld at (%lld, %lld, %lld)\n", kind,
                        (long long) outer, (long long) inner, (long long) n, (long long) o, (long long) k,
                        (long long) i);
            }
}

template <class T>
void run(std::mt19937& rng)
{
    for (int i = 0; i < 300; ++i)
    {
        dftCase<T>(rng);
        stftCase<T>(rng);
        unpackCase<T>(rng);
    }
}

} // namespace

int main()
{
    std::mt19937 rng(45);
    run<float>(rng);
    run<__half>(rng);
    run<__nv_bfloat16>(rng);
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures == 0 ? 0 : 1;
}
