// Host emulation of Col2Im's chunk kernel (plugins/col2im/col2im_chunks.cuh): every chunk of the
// grid run on the CPU for random 1-D to 6-D geometries (odd extents, row tails shorter than a
// chunk, dilations, strides, pads wider than a block, block positions that miss the image, no
// columns at all), fp32/fp16/bf16, the stride-1 window path and the per-output path (both on
// stride-1 geometries too), 32- and 64-bit index math, aligned and misaligned input and output,
// input placed against an unreadable page on either side; compared bit for bit with a loop over
// the ONNX definition that sums in the kernel's stated order. Built and run by
// tests/test_col2im_emulation.py where nvcc exists (no GPU needed).
#include "col2im/col2im_chunks.cuh"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace trtplug;

namespace
{

int failures = 0;
int cases = 0;
int vectorRuns = 0; // runs of the stride-1 path with aligned-vector loads

//! Pages with an unreadable page before and after: a kernel read outside the tensor faults.
class Guarded
{
public:
    explicit Guarded(size_t bytes)
        : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE)))
    {
        pages_ = (bytes + page_ - 1) / page_ + 1;
        size_ = (pages_ + 2) * page_;
        base_ = static_cast<char*>(mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        mprotect(base_, page_, PROT_NONE);
        mprotect(base_ + (pages_ + 1) * page_, page_, PROT_NONE);
    }
    ~Guarded() { munmap(base_, size_); }
    Guarded(Guarded const&) = delete;
    Guarded& operator=(Guarded const&) = delete;

    //! `bytes` starting `offset` bytes after the first readable byte, or ending at the last one.
    char* place(size_t bytes, size_t offset, bool atEnd) const
    {
        return atEnd ? base_ + (pages_ + 1) * page_ - bytes - offset : base_ + page_ + offset;
    }

private:
    size_t page_;
    size_t pages_;
    size_t size_;
    char* base_;
};

struct Case
{
    Col2ImGeometry g;
    int32_t block[kCol2ImMaxSpatial];
    int32_t count[kCol2ImMaxSpatial];
    int64_t total;
};

//! The (k, b) pairs of one axis that land on padded coordinate p, k ascending.
std::vector<std::pair<int64_t, int64_t>> sources(Case const& c, int d, int64_t p)
{
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int64_t k = 0; k < c.block[d]; ++k)
    {
        int64_t const at = p - k * c.g.dilations[d];
        if (at >= 0 && at % c.g.strides[d] == 0 && at / c.g.strides[d] < c.count[d])
        {
            out.emplace_back(k, at / c.g.strides[d]);
        }
    }
    return out;
}

//! Sum over axes d.. as the kernel orders it: outer axes one inner sum at a time; the last axis in
//! groups ((v0 + v1) + (v2 + v3)) of four consecutive indices k / kStep.
float referenceSum(std::vector<float> const& x, Case const& c, int64_t const* pos, int d, int64_t plane,
    int64_t kOff, int64_t lOff)
{
    int const s = c.g.spatial;
    auto const terms = sources(c, d, pos[d] + c.g.padBegin[d]);
    auto value = [&](int64_t k, int64_t b)
    {
        int64_t const row = plane * c.g.kernel + kOff * c.block[d] + k;
        return x[static_cast<size_t>(row * c.g.columns + lOff * c.count[d] + b)];
    };
    float sum = 0.F;
    if (d < s - 1)
    {
        for (auto [k, b] : terms)
        {
            sum += referenceSum(x, c, pos, d + 1, plane, kOff * c.block[d] + k, lOff * c.count[d] + b);
        }
        return sum;
    }
    int64_t const kStep = c.g.strides[d] / std::gcd(c.g.strides[d], c.g.dilations[d]);
    for (size_t t = 0; t < terms.size();)
    {
        int64_t const group = terms[t].first / kStep / 4;
        float v[4] = {};
        for (; t < terms.size() && terms[t].first / kStep / 4 == group; ++t)
        {
            v[terms[t].first / kStep % 4] = value(terms[t].first, terms[t].second);
        }
        sum += (v[0] + v[1]) + (v[2] + v[3]);
    }
    return sum;
}

template <class T>
uint32_t bitsOf(T v)
{
    uint32_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}

template <class T, bool kUnit, int S, bool kWide>
void run(Case const& c, std::vector<T> const& xs, std::vector<T> const& want, bool alignedIn, bool alignedOut,
    bool atEnd, bool ok)
{
    constexpr int V = kUnit ? static_cast<int>(16 / sizeof(T)) : 1;
    size_t const inBytes = xs.size() * sizeof(T);
    Guarded in(inBytes + 16);
    // Misaligned: one element off the page edge (at the end, the tensor's size decides alignment).
    size_t const offset = alignedIn ? 0 : sizeof(T);
    auto* x = reinterpret_cast<T*>(in.place(inBytes, offset, atEnd));
    std::memcpy(x, xs.data(), inBytes);
    std::vector<T> storage(static_cast<size_t>(c.total) + 2 * V + 8);
    T* y = storage.data() + (alignedOut ? (16 - reinterpret_cast<uintptr_t>(storage.data()) % 16) % 16 / sizeof(T) : 1);
    T const poison = fromFloat<T>(-7.F);
    for (T& v : storage)
    {
        v = poison;
    }
    auto const g = makeCol2ImChunks<S, kWide>(c.g, V, isAligned(x, 16), isAligned(y, 16));
    vectorRuns += kUnit && g.vectorLoads ? 1 : 0;
    int32_t block[S];
    int32_t count[S];
    for (int d = 0; d < S; ++d)
    {
        block[d] = c.block[d];
        count[d] = c.count[d];
    }
    for (int64_t i = 0; i < static_cast<int64_t>(g.chunks); ++i)
    {
        col2imChunk<T, V, kUnit>(x, y, g, block, count, ok, static_cast<typename Col2ImChunks<S, kWide>::Index>(i));
    }
    ++cases;
    for (int64_t i = 0; i < c.total; ++i)
    {
        bool const good = ok ? bitsOf(y[i]) == bitsOf(want[static_cast<size_t>(i)]) : std::isnan(toFloat(y[i]));
        if (!good)
        {
            if (++failures < 12)
            {
                std::printf("FAIL %dD size %zu unit %d wide %d in %d out %d end %d ok %d image[-1] %lld stride %lld "
                            "dil %lld at %lld: %a vs %a\n",
                    S, sizeof(T), kUnit, kWide, alignedIn, alignedOut, atEnd, ok,
                    static_cast<long long>(c.g.image[S - 1]), static_cast<long long>(c.g.strides[S - 1]),
                    static_cast<long long>(c.g.dilations[S - 1]), static_cast<long long>(i), toFloat(y[i]),
                    toFloat(want[static_cast<size_t>(i)]));
            }
            return;
        }
    }
    if (bitsOf(y[c.total]) != bitsOf(poison) || (y != storage.data() && bitsOf(y[-1]) != bitsOf(poison)))
    {
        ++failures;
        std::printf("FAIL %dD size %zu: wrote outside the output\n", S, sizeof(T));
    }
}

template <class T, int S>
void checkType(Case const& c, std::mt19937& rng)
{
    std::vector<T> xs(static_cast<size_t>(c.g.batch * c.g.channels * c.g.kernel * c.g.columns));
    std::normal_distribution<float> normal;
    std::vector<float> xf(xs.size());
    for (size_t i = 0; i < xs.size(); ++i)
    {
        // Magnitudes 2^-6 .. 2^6: sums whose rounding depends on the order.
        xs[i] = fromFloat<T>(std::ldexp(normal(rng), static_cast<int>(rng() % 13) - 6));
        xf[i] = toFloat(xs[i]);
    }
    std::vector<T> want(static_cast<size_t>(c.total));
    int64_t const planes = c.g.batch * c.g.channels;
    int64_t const volume = c.total / planes;
    for (int64_t i = 0; i < c.total; ++i)
    {
        int64_t pos[S];
        int64_t rest = i % volume;
        for (int d = S - 1; d >= 0; --d)
        {
            pos[d] = rest % c.g.image[d];
            rest /= c.g.image[d];
        }
        want[static_cast<size_t>(i)] = fromFloat<T>(referenceSum(xf, c, pos, 0, i / volume, 0, 0));
    }
    bool const unit = c.g.strides[S - 1] == 1;
    for (int mode = 0; mode < 8; ++mode)
    {
        bool const alignedIn = mode & 1;
        bool const alignedOut = (mode & 2) != 0;
        bool const atEnd = (mode & 4) != 0;
        if (unit)
        {
            run<T, true, S, false>(c, xs, want, alignedIn, alignedOut, atEnd, true);
            run<T, true, S, true>(c, xs, want, alignedIn, alignedOut, atEnd, true);
        }
        run<T, false, S, false>(c, xs, want, alignedIn, alignedOut, atEnd, true);
        run<T, false, S, true>(c, xs, want, alignedIn, alignedOut, atEnd, true);
    }
    run<T, true, S, false>(c, xs, want, true, true, false, false); // device block shape disagrees: NaN
}

//! Block positions, kernel and column counts and the output size of c's attributes, then every type.
template <int S>
void checkCase(Case& c, std::mt19937& rng)
{
    c.g.spatial = S;
    c.g.kernel = 1;
    c.g.columns = 1;
    c.total = c.g.batch * c.g.channels;
    for (int d = 0; d < S; ++d)
    {
        c.count[d] = static_cast<int32_t>(col2ImBlockCount(c.g, d, c.block[d]));
        c.g.kernel *= c.block[d];
        c.g.columns *= c.count[d];
        c.total *= c.g.image[d];
    }
    checkType<float, S>(c, rng);
    checkType<__half, S>(c, rng);
    checkType<__nv_bfloat16, S>(c, rng);
}

template <int S>
void checkGeometry(std::mt19937& rng, int trial)
{
    Case c{};
    c.g.batch = 1 + static_cast<int64_t>(rng() % 2);
    c.g.channels = trial % 3 == 0 ? 8 : 1 + static_cast<int64_t>(rng() % 3); // 8: sizes V divides
    for (int d = 0; d < S; ++d)
    {
        bool const last = d == S - 1;
        int64_t const maxImage = last ? (S >= 5 ? 9 : 40) : S >= 5 ? 3 : S >= 3 ? 5 : 9;
        c.g.image[d] = 1 + static_cast<int64_t>(rng() % maxImage);
        c.block[d] = 1 + static_cast<int32_t>(rng() % (trial % 5 == 0 ? 7 : 4));
        c.g.dilations[d] = 1 + static_cast<int64_t>(rng() % 3);
        c.g.strides[d] = last && trial % 2 == 0 ? 1 : 1 + static_cast<int64_t>(rng() % 3);
        int64_t const maxPad = trial % 7 == 0 ? 9 : 3; // wide pads: first kernel offsets past 4 * kStep
        c.g.padBegin[d] = static_cast<int64_t>(rng() % (maxPad + 1));
        c.g.padEnd[d] = static_cast<int64_t>(rng() % (maxPad + 1));
    }
    checkCase<S>(c, rng);
}

//! The benchmark's geometry (`trtplug bench`: 3 x 3 blocks over 128 x 128, pad 1) on two
//! channels, with stride 1 and 2.
void checkBenchmark(std::mt19937& rng)
{
    for (int64_t stride : {1, 2})
    {
        Case c{};
        c.g.batch = 1;
        c.g.channels = 2;
        for (int d = 0; d < 2; ++d)
        {
            c.g.image[d] = 128;
            c.block[d] = 3;
            c.g.dilations[d] = 1;
            c.g.strides[d] = stride;
            c.g.padBegin[d] = 1;
            c.g.padEnd[d] = 1;
        }
        checkCase<2>(c, rng);
    }
}

} // namespace

int main()
{
    std::mt19937 rng(11);
    checkBenchmark(rng);
    for (int trial = 0; trial < 12; ++trial) // 5-D and 6-D: the per-output kernel (launchCol2Im)
    {
        checkGeometry<5>(rng, trial);
        checkGeometry<6>(rng, trial);
    }
    for (int trial = 0; trial < 360; ++trial)
    {
        switch (trial % 9)
        {
        case 0: case 1: checkGeometry<1>(rng, trial); break;
        case 2: case 3: case 4: case 5: checkGeometry<2>(rng, trial); break;
        case 6: case 7: checkGeometry<3>(rng, trial); break;
        default: checkGeometry<4>(rng, trial); break;
        }
    }
    std::printf("vector-load runs: %d\n", vectorRuns);
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures == 0 ? 0 : 1;
}
