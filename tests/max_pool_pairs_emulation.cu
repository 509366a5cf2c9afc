// Host emulation of MaxPoolWithIndices' 2 x 2 / 2 pair path (plugins/max_pool_with_indices/
// pool_pairs.cuh): every pair of the grid run on the CPU for random geometries (planes, odd and
// even heights, widths in whole 4-element vectors), fp32 / fp16 / bf16, 32- and 64-bit index
// math, values with ties, NaN and -inf, outputs poisoned first, against a direct walk of each
// window in ONNX's order (first strict maximum; -inf at index -1 where nothing beats -inf). Also
// that pairsApply turns down what the pairs cannot take. Built and run by
// tests/test_max_pool_pairs_emulation.py where nvcc exists (no GPU needed).
#include "max_pool_with_indices/pool_pairs.cuh"

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace trtplug;

namespace
{

int failures = 0;
int cases = 0;

PoolGeometry pool2x2(int64_t height, int64_t width)
{
    PoolGeometry g{};
    g.spatial = 2;
    g.in[0] = height;
    g.in[1] = width;
    for (int32_t d = 0; d < 2; ++d)
    {
        g.out[d] = g.in[d] / 2;
        g.kernel[d] = 2;
        g.stride[d] = 2;
        g.dilation[d] = 1;
    }
    return g;
}

//! A value of few distinct ones (ties), now and then NaN or -inf.
float drawValue(std::mt19937& rng)
{
    unsigned const pick = rng() % 16;
    return pick == 0 ? NAN : pick == 1 ? -INFINITY : static_cast<float>(static_cast<int>(rng() % 5) - 2);
}

template <class T, bool kWide>
void check(int64_t planes, int64_t height, int64_t width, std::mt19937& rng)
{
    PoolGeometry const g = pool2x2(height, width);
    int64_t const total = planes * g.out[0] * g.out[1];
    std::vector<Vec<T, 4>> xStore(static_cast<size_t>(planes * height * width / 4 + 1));
    std::vector<Vec<T, 4>> yStore(static_cast<size_t>(total / 4 + 2));
    std::vector<longlong2> iStore(static_cast<size_t>(total / 2 + 1));
    T* x = xStore[0].v;
    T* y = yStore[0].v;
    auto* indices = reinterpret_cast<int64_t*>(iStore.data());
    std::vector<float> xf(static_cast<size_t>(planes * height * width));
    for (size_t i = 0; i < xf.size(); ++i)
    {
        x[i] = fromFloat<T>(drawValue(rng));
        xf[i] = toFloat(x[i]);
    }
    for (int64_t o = 0; o < total; ++o)
    {
        y[o] = fromFloat<T>(12345.F); // poison: no window holds it
        indices[o] = -7;
    }
    ++cases;
    if (!pairsApply<T>(g, x, y, indices))
    {
        ++failures;
        std::printf("FAIL pairs refused %lld x %lld x %lld\n", static_cast<long long>(planes),
            static_cast<long long>(height), static_cast<long long>(width));
        return;
    }
    PairGeometry<kWide> const geo = pairGeometry<kWide>(g, planes);
    for (int64_t t = 0; t < static_cast<int64_t>(geo.pairs); ++t)
    {
        poolPair<T, kWide>(x, y, indices, geo, static_cast<typename IndexMath<kWide>::Index>(t));
    }
    for (int64_t o = 0; o < total; ++o)
    {
        int64_t const col = o % g.out[1];
        int64_t const row = o / g.out[1] % g.out[0];
        int64_t const plane = o / (g.out[0] * g.out[1]);
        float best = -INFINITY;
        int64_t index = -1;
        for (int64_t r = 2 * row; r < 2 * row + 2; ++r)
        {
            for (int64_t c = 2 * col; c < 2 * col + 2; ++c)
            {
                int64_t const at = (plane * height + r) * width + c;
                if (xf[static_cast<size_t>(at)] > best)
                {
                    best = xf[static_cast<size_t>(at)];
                    index = at;
                }
            }
        }
        float const got = toFloat(y[o]);
        if (got != best || indices[o] != index)
        {
            if (++failures < 10)
            {
                std::printf("FAIL size %zu wide %d %lldx%lldx%lld output %lld: %g at %lld, want %g at %lld\n",
                    sizeof(T), kWide, static_cast<long long>(planes), static_cast<long long>(height),
                    static_cast<long long>(width), static_cast<long long>(o), got, static_cast<long long>(indices[o]),
                    best, static_cast<long long>(index));
            }
            return;
        }
    }
}

//! What the pairs must turn down: misaligned buffers, widths not in whole vectors, other windows.
void checkRefusals()
{
    std::vector<Vec<float, 4>> store(64);
    float* x = store[0].v;
    auto* indices = reinterpret_cast<int64_t*>(store.data());
    PoolGeometry const good = pool2x2(4, 8);
    PoolGeometry odd = pool2x2(4, 10);
    PoolGeometry wide3 = good;
    wide3.kernel[1] = 3;
    PoolGeometry padded = good;
    padded.begin[0] = 1;
    PoolGeometry columns = good;
    columns.columnMajor = true;
    PoolGeometry ceil = good;
    ceil.out[0] = 3; // ceil_mode on height 5 would give a last window past the input
    ceil.in[0] = 5;
    bool const refused[] = {!pairsApply<float>(good, x + 1, x, indices), !pairsApply<float>(good, x, x + 1, indices),
        !pairsApply<float>(good, x, x, indices + 1), !pairsApply<float>(odd, x, x, indices),
        !pairsApply<float>(wide3, x, x, indices), !pairsApply<float>(padded, x, x, indices),
        !pairsApply<float>(columns, x, x, indices), !pairsApply<float>(ceil, x, x, indices),
        pairsApply<float>(good, x, x, indices)};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i)
    {
        ++cases;
        if (!refused[i])
        {
            ++failures;
            std::printf("FAIL refusal %zu\n", i);
        }
    }
}

} // namespace

int main()
{
    std::mt19937 rng(11);
    checkRefusals();
    for (int trial = 0; trial < 150; ++trial)
    {
        int64_t const planes = 1 + static_cast<int64_t>(rng() % 5);
        int64_t const height = 2 + static_cast<int64_t>(rng() % 9); // odd heights leave the last row out
        int64_t const width = 4 * (1 + static_cast<int64_t>(rng() % 6));
        check<float, false>(planes, height, width, rng);
        check<float, true>(planes, height, width, rng);
        check<__half, false>(planes, height, width, rng);
        check<__half, true>(planes, height, width, rng);
        check<__nv_bfloat16, false>(planes, height, width, rng);
        check<__nv_bfloat16, true>(planes, height, width, rng);
    }
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures == 0 ? 0 : 1;
}
