// Host emulation of AffineGrid's vector kernel (plugins/affine_grid/affine_grid_vectors.cuh): every
// thread of small grids run on the CPU for random 2-D and 3-D shapes (odd widths, rows shorter than
// a vector, vectors across rows, items and the grid's end), fp32 / fp16 / bf16, 32- and 64-bit
// index math, aligned and unaligned outputs, both align_corners, against a direct loop over the
// op's definition, bit for bit; outputs poisoned first, the bytes around them checked untouched,
// theta fenced by an inaccessible page (a read past its last item faults, as it could on the GPU).
// Built and run by tests/test_affine_grid_emulation.py where nvcc exists (no GPU needed).
#include "affine_grid/affine_grid_vectors.cuh"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

using namespace trtplug;

namespace
{

int failures = 0;
int cases = 0;

struct Shape
{
    int64_t n, d, h, w;
    bool alignCorners;
    int64_t points() const { return n * d * h * w; }
};

//! theta's values at the end of a page that an inaccessible page follows.
template <class T>
class FencedTheta
{
public:
    explicit FencedTheta(std::vector<T> const& values)
    {
        size_t const page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        size_t const bytes = values.size() * sizeof(T);
        mSize = (bytes + page - 1) / page * page + page;
        mBase = static_cast<char*>(mmap(nullptr, mSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (mBase == MAP_FAILED || mprotect(mBase + mSize - page, page, PROT_NONE) != 0)
        {
            std::printf("FAIL: no fenced theta\n");
            std::exit(2);
        }
        mData = reinterpret_cast<T*>(mBase + mSize - page - bytes);
        std::memcpy(static_cast<void*>(mData), values.data(), bytes);
    }
    FencedTheta(FencedTheta const&) = delete;
    FencedTheta& operator=(FencedTheta const&) = delete;
    ~FencedTheta() { munmap(mBase, mSize); }
    T const* data() const { return mData; }

private:
    char* mBase;
    size_t mSize;
    T* mData;
};

template <class T>
uint16_t bitsOf(T x)
{
    uint32_t b = 0;
    std::memcpy(&b, &x, sizeof(T));
    return static_cast<uint16_t>(b ^ (b >> 16)); // enough to tell values apart in a report
}

//! grid by definition: element e is component r of point p = (n, d, h, w), theta[n][r] . (x, y, [z,] 1)
//! as fmaf from the last coordinate down to x, each coordinate i * scale + offset.
template <class T, int C, bool kWide>
std::vector<T> reference(std::vector<T> const& theta, Shape const& s, GridVectors<kWide> const& g)
{
    std::vector<T> out(static_cast<size_t>(s.points() * C));
    for (int64_t e = 0; e < s.points() * C; ++e)
    {
        int64_t const p = e / C, r = e % C;
        int64_t const idx[3] = {p % s.w, p / s.w % s.h, p / (s.w * s.h) % s.d};
        int64_t const n = p / (s.w * s.h * s.d);
        float c[3];
        for (int k = 0; k < 3; ++k)
        {
            c[k] = static_cast<float>(idx[k]) * g.scale[k] + g.offset[k];
        }
        T const* t = theta.data() + (n * C + r) * (C + 1);
        float v = toFloat(t[C]);
        for (int k = C - 1; k >= 0; --k)
        {
            v = fmaf(toFloat(t[k]), c[k], v);
        }
        out[static_cast<size_t>(e)] = fromFloat<T>(v);
    }
    return out;
}

template <class T, int C, bool kWide, bool kVector>
void check(Shape const& s, std::vector<T> const& theta, uint32_t blocks, uint32_t threads)
{
    FencedTheta<T> const fenced(theta);
    constexpr int kGuard = 16;
    auto const g = makeGridVectors<kWide>(s.n, s.d, s.h, s.w, C, VectorShape<T, C>::kElems, s.alignCorners);
    int64_t const elements = s.points() * C;
    // 16-byte aligned storage; an unaligned output starts one element in, so no vector store may land.
    std::vector<Vec<T, VectorShape<T, C>::kElems>> storage(static_cast<size_t>(elements / 4 + 2 * kGuard));
    T* base = storage.front().v;
    size_t const total = storage.size() * VectorShape<T, C>::kElems;
    std::memset(static_cast<void*>(base), 0xEE, total * sizeof(T));
    std::vector<T> const before(base, base + total);
    T* grid = base + (kVector ? 0 : 1);
    for (uint32_t b = 0; b < blocks; ++b)
    {
        for (uint32_t lane = 0; lane < threads; ++lane)
        {
            gridThread<T, C, kWide, kVector>(fenced.data(), grid, g, b, blocks, lane, threads);
        }
    }
    std::vector<T> const want = reference<T, C>(theta, s, g);
    ++cases;
    for (size_t i = 0; i < total; ++i)
    {
        int64_t const e = static_cast<int64_t>(i) - (kVector ? 0 : 1);
        bool const inside = e >= 0 && e < elements;
        T const expected = inside ? want[static_cast<size_t>(e)] : before[i];
        if (std::memcmp(base + i, &expected, sizeof(T)) != 0)
        {
            if (++failures < 10)
            {
                std::printf("FAIL size %zu C %d wide %d vector %d shape %lld %lld %lld %lld align %d grid %u x %u "
                            "at %lld%s: %04x vs %04x\n",
                    sizeof(T), C, kWide, kVector, static_cast<long long>(s.n), static_cast<long long>(s.d),
                    static_cast<long long>(s.h), static_cast<long long>(s.w), s.alignCorners, blocks, threads,
                    static_cast<long long>(e), inside ? "" : " (outside the output)", bitsOf(base[i]),
                    bitsOf(expected));
            }
            return;
        }
    }
}

template <class T, int C>
void checkAll(Shape const& s, std::mt19937& rng)
{
    std::normal_distribution<float> normal;
    std::vector<T> theta(static_cast<size_t>(s.n * C * (C + 1)));
    for (auto& t : theta)
    {
        t = fromFloat<T>(normal(rng));
    }
    uint32_t const grids[][2] = {{1, 1}, {2, 32}, {3, 8}};
    for (auto const& grid : grids)
    {
        check<T, C, false, true>(s, theta, grid[0], grid[1]);
        check<T, C, false, false>(s, theta, grid[0], grid[1]);
        check<T, C, true, true>(s, theta, grid[0], grid[1]);
        check<T, C, true, false>(s, theta, grid[0], grid[1]);
    }
}

template <int C>
void checkTypes(Shape const& s, std::mt19937& rng)
{
    checkAll<float, C>(s, rng);
    checkAll<__half, C>(s, rng);
    checkAll<__nv_bfloat16, C>(s, rng);
}

} // namespace

int main()
{
    std::mt19937 rng(11);
    for (int trial = 0; trial < 240; ++trial)
    {
        bool const is3d = trial % 2 == 1;
        auto dim = [&](int most) { return static_cast<int64_t>(rng() % most) + 1; };
        // Widths 1-3 put every vector across rows; 64 and 65 an even and an odd long row.
        int64_t const widths[] = {1, 2, 3, dim(9), dim(33), 64, 65};
        Shape s{dim(3), is3d ? dim(4) : 1, dim(6), widths[rng() % 7], trial % 4 < 2};
        if (is3d)
        {
            checkTypes<3>(s, rng);
        }
        else
        {
            checkTypes<2>(s, rng);
        }
    }
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures == 0 ? 0 : 1;
}
