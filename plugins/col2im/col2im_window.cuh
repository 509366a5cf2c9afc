// The last axis of Col2Im's stride-1 chunks (col2im_chunks.cuh): per kernel offset a window of V
// adjacent input elements x[flat .. flat + V) (16 bytes), either the one or two aligned 16-byte
// vectors that hold it, loaded under a predicate (no branch) and shifted into place, or (x
// misaligned, or its size no multiple of V) element loads; groups of up to four windows summed.
// Loading and shifting are separate steps so that a thread issues the loads of a whole group
// before it waits on any. Host-callable for tests/col2im_emulation.cu.
#pragma once

#include "common/launch.cuh"

#include <cstring>
#include <type_traits>

namespace trtplug
{

//! The 16 bytes at x + at (16-byte aligned) as four words if p, else zeros on the device: a
//! predicated load, so a group's loads form one branch-free run. (Zeroed first: an output left
//! undefined by a predicated load stretches its register's live range and spills.) The host
//! fills NaN bits instead, which the masking must remove: no zero here is relied upon.
template <class T, class Signed>
__host__ __device__ __forceinline__ void loadWordsIf(bool p, T const* x, Signed at, uint32_t* w)
{
#ifdef __CUDA_ARCH__
    uint32_t r0 = 0;
    uint32_t r1 = 0;
    uint32_t r2 = 0;
    uint32_t r3 = 0;
    asm("{\n\t.reg .pred p;\n\tsetp.ne.b32 p, %4, 0;\n\t@p ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%5];\n\t}"
        : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
        : "r"(static_cast<int>(p)), "l"(x + at));
    w[0] = r0;
    w[1] = r1;
    w[2] = r2;
    w[3] = r3;
#else
    if (p)
    {
        std::memcpy(w, x + at, 16);
    }
    else
    {
        std::memset(w, 0xFF, 16); // NaN in every float type
    }
#endif
}

//! low[i] = raw[i + q] for a run-time 0 <= q < 4: two rounds of selects (by 2, then by 1), no
//! local-memory array.
__host__ __device__ __forceinline__ void shiftWords(uint32_t const (&raw)[8], int32_t q, uint32_t (&low)[5])
{
    uint32_t t[6];
#pragma unroll
    for (int i = 0; i < 6; ++i)
    {
        t[i] = (q & 2) != 0 ? raw[i + 2] : raw[i];
    }
#pragma unroll
    for (int i = 0; i < 5; ++i)
    {
        low[i] = (q & 1) != 0 ? t[i + 1] : t[i];
    }
}

//! Bits [shift, shift + 32) of hi:lo.
__host__ __device__ __forceinline__ uint32_t funnel(uint32_t lo, uint32_t hi, uint32_t shift)
{
#ifdef __CUDA_ARCH__
    return __funnelshift_r(lo, hi, shift);
#else
    return static_cast<uint32_t>(((uint64_t{hi} << 32) | lo) >> shift);
#endif
}

//! The wanted elements of a window, j in [lo, hi), as a mask: bit j.
__host__ __device__ __forceinline__ uint32_t wantedMask(int32_t lo, int32_t hi)
{
    return lo < hi ? (1U << hi) - (1U << lo) : 0U;
}

//! The aligned vectors A at flat - s and B after it (`raw`) that hold x[flat + j] for lo <= j < hi,
//! each loaded only when it holds one of them (s = flat mod V); returns the window's meta: the
//! wanted elements' mask (wantedMask), and s above bit 8. x must be 16-byte aligned and every
//! aligned vector that holds one of its elements must lie inside it (launchCol2Im: its size a
//! multiple of V).
template <class T, int V, class Signed>
__host__ __device__ __forceinline__ uint32_t loadVectors(
    T const* __restrict__ x, Signed flat, int32_t lo, int32_t hi, uint32_t (&raw)[8])
{
    auto const s = static_cast<int32_t>(flat & (V - 1)); // floor mod: flat < 0 when lo > 0
    loadWordsIf(lo < hi && lo < V - s, x, flat - s, raw);
    loadWordsIf(lo < hi && hi > V - s, x, flat - s + V, raw + 4);
    return wantedMask(lo, hi) | static_cast<uint32_t>(s) << 8;
}

//! Per-byte masks of the wanted elements 0-3 (`lo`) and 4-7 (`hi`) of a 16-bit window: bit j of
//! `mask` spread to bit 8j by one multiply (the products of the four bits do not overlap), then to
//! the whole byte.
__host__ __device__ __forceinline__ void byteMasks(uint32_t mask, uint32_t& lo, uint32_t& hi)
{
    lo = ((mask & 0xFU) * 0x204081U & 0x01010101U) * 0xFFU;
    hi = ((mask >> 4 & 0xFU) * 0x204081U & 0x01010101U) * 0xFFU;
}

//! Bytes of hi:lo picked by `selector` (one 3-bit index a nibble, as __byte_perm).
__host__ __device__ __forceinline__ uint32_t pickBytes(uint32_t lo, uint32_t hi, uint32_t selector)
{
#ifdef __CUDA_ARCH__
    return __byte_perm(lo, hi, selector);
#else
    uint64_t const both = uint64_t{hi} << 32 | lo;
    uint32_t r = 0;
    for (int n = 0; n < 4; ++n)
    {
        r |= static_cast<uint32_t>(both >> (8 * (selector >> (4 * n) & 7U)) & 0xFFU) << (8 * n);
    }
    return r;
#endif
}

//! The wanted bits of a window (meta: loadVectors'), others zero, as four words: `raw` shifted
//! down s elements, then masked: a select a word (fp32), or an and with the word's two halves of
//! byteMasks (16-bit types). Kept as bits until summed: half the registers of floats for 16-bit.
template <class T, int V>
__host__ __device__ __forceinline__ void shiftVectors(uint32_t const (&raw)[8], uint32_t meta, uint32_t (&out)[4])
{
    constexpr int kPerWord = 4 / sizeof(T);
    auto const s = static_cast<int32_t>(meta >> 8);
    int32_t const q = s / kPerWord;
    auto const shift = static_cast<uint32_t>(s % kPerWord * 16); // 16-bit types at an odd s
    uint32_t low[5];
    shiftWords(raw, q, low);
    if constexpr (kPerWord == 1)
    {
#pragma unroll
        for (int i = 0; i < 4; ++i)
        {
            out[i] = (meta >> i & 1U) != 0 ? low[i] : 0U;
        }
    }
    else
    {
        uint32_t lo;
        uint32_t hi;
        byteMasks(meta, lo, hi);
#pragma unroll
        for (int i = 0; i < 4; ++i)
        {
            // Elements 2i and 2i + 1: bytes 2i, 2i, 2i + 1, 2i + 1 of hi:lo.
            uint32_t const selector = 0x1100U + 0x2222U * static_cast<uint32_t>(i);
            out[i] = funnel(low[i], low[i + 1], shift) & pickBytes(lo, hi, selector);
        }
    }
}

//! shiftVectors' result from element loads, for any x.
template <class T, int V, class Signed>
__host__ __device__ __forceinline__ void elementWindow(
    T const* __restrict__ x, Signed flat, int32_t lo, int32_t hi, uint32_t (&out)[4])
{
    constexpr int kPerWord = 4 / sizeof(T);
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        out[i] = 0U;
    }
#pragma unroll
    for (int j = 0; j < V; ++j)
    {
        if (lo <= j && j < hi)
        {
            T const e = x[flat + j];
            uint32_t bits = 0;
            std::memcpy(&bits, &e, sizeof(T));
            out[j / kPerWord] |= bits << (j % kPerWord * 16);
        }
    }
}

//! Element j of a window's bits as float.
template <class T>
__host__ __device__ __forceinline__ float element(uint32_t const (&bits)[4], int j)
{
    constexpr int kPerWord = 4 / sizeof(T);
    uint32_t const word = bits[j / kPerWord] >> (j % kPerWord * 16);
    if constexpr (sizeof(T) == 4)
    {
        float f;
        std::memcpy(&f, &word, 4);
        return f;
    }
    else
    {
        using Raw = std::conditional_t<std::is_same_v<T, __half>, __half_raw, __nv_bfloat16_raw>;
        Raw r;
        r.x = static_cast<unsigned short>(word);
        return toFloat(T(r));
    }
}

//! Stride 1 on the last axis: adds to `sum` the group of W <= 4 kernel offsets kg.. (each reaching
//! some output), one window of the chunk's n adjacent sources each, those at block positions 0 <=
//! p0 + j - k * dilation < count (p0: the first output's padded coordinate), as ((v0 + v1) + (v2 + v3)); absent offsets are left out, not added as
//! zeros (the same float sum: `sum` is never -0). `row` is the flat index of kernel offset 0, block
//! position 0 of this row of kernel and block positions. kVectors: aligned vectors (loadVectors,
//! then shiftVectors once every load of the group is issued), else elementWindow.
template <int W, bool kVectors, class T, int V, class Signed>
__host__ __device__ __forceinline__ void addGroup(T const* __restrict__ x, Signed row, int32_t p0, int32_t n,
    int32_t kg, int32_t dilation, int32_t count, Signed columns, float (&sum)[V])
{
    uint32_t bits[W][4];
    uint32_t raw[W][8];
    uint32_t meta[W]; // wanted elements' mask and the shift: one register a window while loads fly
#pragma unroll
    for (int u = 0; u < W; ++u)
    {
        int32_t const k = kg + u;
        int32_t const b = p0 - k * dilation; // output 0's block position
        int32_t const lo = b < 0 ? -b : 0;
        int32_t const hi = b < count - n ? n : count - b;
        Signed const flat = lo < hi ? row + k * columns + b : 0;
        if constexpr (kVectors)
        {
            meta[u] = loadVectors<T, V>(x, flat, lo, hi, raw[u]);
        }
        else
        {
            elementWindow<T, V>(x, flat, lo, hi, bits[u]);
        }
    }
    if constexpr (kVectors)
    {
#pragma unroll
        for (int u = 0; u < W; ++u)
        {
            shiftVectors<T, V>(raw[u], meta[u], bits[u]);
        }
    }
#pragma unroll
    for (int j = 0; j < V; ++j)
    {
        float v[W];
#pragma unroll
        for (int u = 0; u < W; ++u)
        {
            v[u] = element<T>(bits[u], j);
        }
        float const pair = W > 1 ? v[0] + v[1 % W] : v[0];
        float const group = W == 4 ? pair + (v[2 % W] + v[3 % W]) : W == 3 ? pair + v[2 % W] : pair;
        sum[j] += group;
    }
}

//! Stride 1 on the last axis: the sum over the kernel offsets kBegin..kEnd (kBegin a multiple of
//! four) in groups of four (addGroup); a last group of fewer offsets runs a narrower addGroup (a
//! 3-wide block: no fourth window's loads, shifts and adds).
template <bool kVectors, class T, int V, class Signed>
__host__ __device__ __forceinline__ void sumWindows(T const* __restrict__ x, Signed row, int32_t p0, int32_t n,
    int32_t kBegin, int32_t kEnd, int32_t dilation, int32_t count, Signed columns, float (&sum)[V])
{
#pragma unroll
    for (int j = 0; j < V; ++j)
    {
        sum[j] = 0.F;
    }
    for (int32_t kg = kBegin; kg <= kEnd; kg += 4)
    {
        int32_t const width = kEnd - kg + 1;
        if (width >= 4)
        {
            addGroup<4, kVectors>(x, row, p0, n, kg, dilation, count, columns, sum);
        }
        else if (width == 3)
        {
            addGroup<3, kVectors>(x, row, p0, n, kg, dilation, count, columns, sum);
        }
        else if (width == 2)
        {
            addGroup<2, kVectors>(x, row, p0, n, kg, dilation, count, columns, sum);
        }
        else
        {
            addGroup<1, kVectors>(x, row, p0, n, kg, dilation, count, columns, sum);
        }
    }
}

} // namespace trtplug
