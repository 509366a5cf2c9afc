// Host emulation of launchMaxUnpool (plugins/max_unpool/unpool_windows.cuh): the same geometry,
// path choice (window pair groups, window vectors of 4 / 2 / 1, or zero-then-scatter) and grids
// as max_unpool.cu, every thread of pass 1 run on the CPU one at a time, each one's writes found
// by poisoning y first, so that every element of y is checked written exactly once on the window
// path; then pass 2 (strays) or the scatter. Cases come from tests/test_max_unpool_emulation.py
// (argv[1]: records of an int64 header, x's bits, int64 indices); y's bits go to argv[2] for the
// NumPy reference there; stdout: one line per case (its path and write counts), then the totals.
#include "max_unpool/unpool_windows.cuh"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

using namespace trtplug;
using namespace trtplug::unpool;

namespace
{

constexpr size_t kGuard = 64;           //!< bytes checked untouched before and after y
constexpr unsigned char kPoison = 0xFF; //!< all-ones: a NaN that no copy of the test's x produces

struct Case
{
    int64_t dtype; // 0 float32, 1 float16, 2 bfloat16
    int64_t spatial, planes;
    int64_t in[kMaxUnpoolMaxSpatial], inferred[kMaxUnpoolMaxSpatial], out[kMaxUnpoolMaxSpatial];
    int64_t xOffset, indexOffset, yOffset; // elements past a 256-byte boundary
    int64_t workspace;                     // 0: none (the window path needs one)
    int64_t count() const
    {
        int64_t n = planes;
        for (int64_t d = 0; d < spatial; ++d)
        {
            n *= in[d];
        }
        return n;
    }
};

//! Bytes at `offset` elements of T past a 256-byte boundary, with guard bytes around them.
template <class T>
struct Placed
{
    std::vector<unsigned char> raw;
    T* data;
    size_t bytes;
    Placed(size_t elements, int64_t offset)
        : raw(elements * sizeof(T) + 512 + 2 * kGuard, kPoison)
        , bytes(elements * sizeof(T))
    {
        uintptr_t const start = reinterpret_cast<uintptr_t>(raw.data()) + kGuard;
        uintptr_t const aligned = (start + 255) / 256 * 256 + offset * sizeof(T);
        data = reinterpret_cast<T*>(aligned);
    }
    bool guardsIntact() const
    {
        auto const* p = reinterpret_cast<unsigned char const*>(data);
        for (size_t k = 1; k <= kGuard; ++k)
        {
            if (p[-static_cast<ptrdiff_t>(k)] != kPoison || p[bytes + k - 1] != kPoison)
            {
                return false;
            }
        }
        return true;
    }
};

template <class T>
bool poisoned(T const& v)
{
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (unsigned char c : b)
    {
        if (c != kPoison)
        {
            return false;
        }
    }
    return true;
}

struct Outcome
{
    char const* path = "scatter";
    int64_t unwritten = 0;   // window path: elements no pass-1 thread wrote
    int64_t overwritten = 0; // window path: elements more than one thread wrote
    int32_t pending = 0;
};

//! Runs thread(t) for t < threads on y (poisoned), recording which elements each one wrote.
template <class T, class Thread>
void trackedPass(T* y, int64_t total, int64_t threads, Thread const& thread, Outcome& o)
{
    std::vector<T> value(static_cast<size_t>(total));
    std::vector<int32_t> writes(static_cast<size_t>(total), 0);
    std::memset(static_cast<void*>(y), kPoison, static_cast<size_t>(total) * sizeof(T));
    for (int64_t t = 0; t < threads; ++t)
    {
        thread(t);
        for (int64_t e = 0; e < total; ++e)
        {
            if (!poisoned(y[e]))
            {
                ++writes[e];
                value[e] = y[e];
                std::memset(static_cast<void*>(y + e), kPoison, sizeof(T));
            }
        }
    }
    for (int64_t e = 0; e < total; ++e)
    {
        o.unwritten += writes[e] == 0;
        o.overwritten += writes[e] > 1;
        y[e] = value[e];
    }
}

template <class T, int S>
bool emulateWindows(Case const& c, T const* x, int64_t const* idx, T* y, UnpoolDims const& g, Outcome& o)
{
    WindowArgs<S> a{};
    if (!windowArgs<S>(c.count(), c.planes, c.in, g, c.workspace ? &o.pending : nullptr, a))
    {
        return false;
    }
    int64_t const total = a.yTotal;
    int const store = windowStore<T>(a.ratio[S - 1], c.in[S - 1], x, idx, y);
    if (store == 0)
    {
        o.path = "pairs";
        uint32_t const threads = pairBlocks<T>(a.count) * kBlockThreads;
        auto const thread
            = [&](int64_t t) { writePairGroups<T, S>(x, idx, y, a, static_cast<uint32_t>(t), threads); };
        trackedPass(y, total, threads, thread, o);
    }
    else
    {
        o.path = store == 4 ? "windows4" : store == 2 ? "windows2" : "windows1";
        auto const one = [&](int64_t t) {
            auto const i = static_cast<uint32_t>(t);
            store == 4 ? writeWindow<T, S, 4>(x, idx, y, a, i)
                : store == 2 ? writeWindow<T, S, 2>(x, idx, y, a, i)
                             : writeWindow<T, S, 1>(x, idx, y, a, i);
        };
        trackedPass(y, total, a.count, one, o);
    }
    if (o.pending != 0)
    {
        for (uint32_t i = 0; i < a.count; ++i)
        {
            placeStray<T, S>(x, idx, y, a, i);
        }
    }
    return true;
}

//! launchMaxUnpool on the host; false when it would refuse the arguments.
template <class T>
bool emulate(Case const& c, T const* x, int64_t const* idx, T* y, Outcome& o)
{
    UnpoolDims g{};
    if (!unpoolDims(c.count(), c.planes, static_cast<int32_t>(c.spatial), c.in, c.inferred, c.out, g))
    {
        return false;
    }
    int64_t const count = c.count();
    if (c.planes * g.outVolume == 0)
    {
        return true;
    }
    bool const windows = count > 0
        && (c.spatial == 1   ? emulateWindows<T, 1>(c, x, idx, y, g, o)
               : c.spatial == 2 ? emulateWindows<T, 2>(c, x, idx, y, g, o)
               : c.spatial == 3 ? emulateWindows<T, 3>(c, x, idx, y, g, o)
                                : false);
    if (!windows)
    {
        std::memset(static_cast<void*>(y), 0, static_cast<size_t>(c.planes * g.outVolume) * sizeof(T));
        for (int64_t i = 0; i < count && g.inferredVolume > 0; ++i)
        {
            int64_t const dst = scatterTarget(g, idx[i]);
            if (dst >= 0)
            {
                y[dst] = x[i];
            }
        }
    }
    return true;
}

template <class T>
bool runCase(Case const& c, std::ifstream& in, std::ofstream& out, int64_t number)
{
    int64_t const count = c.count();
    int64_t yTotal = c.planes;
    for (int64_t d = 0; d < c.spatial; ++d)
    {
        yTotal *= c.out[d];
    }
    Placed<T> x(static_cast<size_t>(count), c.xOffset);
    Placed<int64_t> idx(static_cast<size_t>(count), c.indexOffset);
    Placed<T> y(static_cast<size_t>(yTotal), c.yOffset);
    in.read(reinterpret_cast<char*>(x.data), static_cast<std::streamsize>(x.bytes));
    in.read(reinterpret_cast<char*>(idx.data), static_cast<std::streamsize>(idx.bytes));
    Outcome o;
    bool const accepted = emulate(c, x.data, idx.data, y.data, o);
    out.write(reinterpret_cast<char const*>(y.data), static_cast<std::streamsize>(y.bytes));
    bool const ok = accepted && y.guardsIntact() && o.overwritten == 0 && (o.path[0] == 's' || o.unwritten == 0);
    std::printf("case %ld path %s pending %d unwritten %ld overwritten %ld %s\n", static_cast<long>(number), o.path,
        o.pending, static_cast<long>(o.unwritten), static_cast<long>(o.overwritten), ok ? "ok" : "FAIL");
    return ok;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3)
    {
        std::printf("usage: %s cases.bin y.bin\n", argv[0]);
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::ofstream out(argv[2], std::ios::binary);
    int64_t cases = 0;
    int64_t failures = 0;
    Case c{};
    while (in.read(reinterpret_cast<char*>(&c), sizeof(Case)))
    {
        bool const ok = c.dtype == 0 ? runCase<float>(c, in, out, cases)
            : c.dtype == 1          ? runCase<__half>(c, in, out, cases)
                                    : runCase<__nv_bfloat16>(c, in, out, cases);
        failures += !ok;
        ++cases;
    }
    std::printf("cases: %ld failures: %ld\n", static_cast<long>(cases), static_cast<long>(failures));
    return 0;
}
