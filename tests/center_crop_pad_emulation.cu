// Host emulation of CenterCropPad's row kernel (plugins/center_crop_pad/center_crop_pad_rows.cuh):
// every chunk of the grid run on the CPU for random shapes of rank 0-5 (crops, pads, odd and even
// widths), each element size, 16-byte and one-element chunks, 32- and 64-bit index math, aligned
// and unaligned x, against a direct loop over the op's definition; outputs poisoned first.
// Built and run by tests/test_center_crop_pad_emulation.py where nvcc exists (no GPU needed).
#include "center_crop_pad/center_crop_pad_rows.cuh"

#include <cstdio>
#include <random>
#include <vector>

using namespace trtplug;

namespace
{

int failures = 0;
int cases = 0;

//! y by definition: each output index shifted by (in - out) / 2 per axis, zero outside x.
template <class T>
std::vector<T> reference(std::vector<T> const& x, CropPadShape const& s)
{
    std::vector<T> y(static_cast<size_t>(s.outVolume()));
    for (int64_t i = 0; i < s.outVolume(); ++i)
    {
        int64_t rest = i, src = 0, stride = 1;
        bool inside = true;
        for (int32_t d = s.rank - 1; d >= 0; --d)
        {
            int64_t const c = rest % s.out[d] + (s.in[d] - s.out[d]) / 2;
            rest /= s.out[d];
            inside = inside && c >= 0 && c < s.in[d];
            src += c * stride;
            stride *= s.in[d];
        }
        y[static_cast<size_t>(i)] = inside ? x[static_cast<size_t>(src)] : T{0};
    }
    return y;
}

template <class T, int V, bool kWide>
void check(CropPadShape const& s, std::mt19937& rng, bool xAligned)
{
    if (s.outW() % V != 0)
    {
        return;
    }
    // x starts one element past a 16-byte boundary when not aligned: no chunk may load a vector.
    std::vector<T> storage(static_cast<size_t>(s.volume(s.in)) + 32);
    T* x = storage.data() + (xAligned ? 0 : 1);
    for (int64_t i = 0; i < s.volume(s.in); ++i)
    {
        x[i] = static_cast<T>(rng() % 250 + 1);
    }
    std::vector<T> xs(x, x + s.volume(s.in));
    std::vector<T> y(static_cast<size_t>(s.outVolume()) + V, static_cast<T>(0xEE));
    CropPadRows<kWide> const g = makeCropPadRows<kWide>(s, V, xAligned);
    for (int64_t c = 0; c < static_cast<int64_t>(g.chunks); ++c)
    {
        chunkCopy<T, V, kWide>(x, y.data(), g, static_cast<typename CropPadRows<kWide>::Index>(c));
    }
    std::vector<T> const want = reference(xs, s);
    ++cases;
    for (size_t i = 0; i < want.size(); ++i)
    {
        if (y[i] != want[i])
        {
            if (++failures < 10)
            {
                std::printf("FAIL size %zu V %d wide %d aligned %d rank %d at %zu: %llu vs %llu\n", sizeof(T), V,
                    kWide, xAligned, s.rank, i, static_cast<unsigned long long>(y[i]),
                    static_cast<unsigned long long>(want[i]));
            }
            return;
        }
    }
    if (y[want.size()] != static_cast<T>(0xEE))
    {
        ++failures;
        std::printf("FAIL size %zu: wrote past the output\n", sizeof(T));
    }
}

template <class T>
void checkAll(CropPadShape const& s, std::mt19937& rng)
{
    for (bool aligned : {true, false})
    {
        check<T, 1, false>(s, rng, aligned);
        check<T, 1, true>(s, rng, aligned);
        check<T, 16 / sizeof(T), false>(s, rng, aligned);
        check<T, 16 / sizeof(T), true>(s, rng, aligned);
    }
}

} // namespace

int main()
{
    std::mt19937 rng(7);
    for (int trial = 0; trial < 400; ++trial)
    {
        int32_t const rank = static_cast<int32_t>(rng() % 6);
        int64_t in[kCenterCropPadMaxRank], out[kCenterCropPadMaxRank];
        for (int32_t d = 0; d < rank; ++d)
        {
            bool const wide = d == rank - 1 && trial % 3 == 0; // rows long enough for whole 16-byte chunks
            in[d] = static_cast<int64_t>(rng() % (wide ? 70 : 6)) + (trial % 17 == 0 ? 0 : 1);
            out[d] = static_cast<int64_t>(rng() % (wide ? 70 : 6)) + 1;
            if (wide && trial % 2 == 0)
            {
                out[d] = (out[d] + 15) / 16 * 16; // every V divides it
            }
        }
        CropPadShape s{};
        s.set(rank, in, out);
        if (s.outVolume() == 0)
        {
            continue;
        }
        checkAll<uint8_t>(s, rng);
        checkAll<uint16_t>(s, rng);
        checkAll<uint32_t>(s, rng);
        checkAll<uint64_t>(s, rng);
    }
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures == 0 ? 0 : 1;
}
