// The column paths of the scan kernel (cumulative.cu): one thread per (outer, inner) column, and
// few long columns split over a block's warps.
#pragma once

#include "cumulative/scan_types.cuh"
#include "cumulative/cumulative.h"

#include <cstdint>

namespace trtplug
{
namespace cumulative_detail
{

//! Walks along one column from element `from` to `to` (logical order) starting from the running
//! value `acc`, kUnroll loads in flight before their dependent accumulations; returns the new acc.
//! `start` is the column's first element in scan order, `step` the signed distance between two.
template <typename T, typename Op, bool kWrite>
__device__ typename ScanType<T>::Acc walkColumn(T const* x, T* y, int64_t start, int64_t step, int64_t from,
    int64_t to, typename ScanType<T>::Acc acc, bool exclusive)
{
    using Acc = typename ScanType<T>::Acc;
    constexpr int kUnroll = sizeof(T) > 4 ? kColumnUnroll / 2 : kColumnUnroll;
    for (int64_t j0 = from; j0 < to; j0 += kUnroll)
    {
        Acc v[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            v[u] = j0 + u < to ? ScanType<T>::widen(x[start + (j0 + u) * step]) : Op::template identity<Acc>();
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
        {
            Acc const next = Op()(acc, v[u]);
            if (kWrite && j0 + u < to)
            {
                y[start + (j0 + u) * step] = ScanType<T>::narrow(exclusive ? acc : next);
            }
            acc = next;
        }
    }
    return acc;
}

//! Column c's first element in scan order (its last one when reversed).
__device__ inline int64_t columnStart(ScanGeometry const& g, int64_t c, bool reverse)
{
    int64_t const outer = c / g.inner;
    return outer * g.length * g.inner + (c - outer * g.inner) + (reverse ? (g.length - 1) * g.inner : 0);
}

//! Two neighbouring columns of a 2-byte type walked by one thread as one 4-byte word per row: a
//! warp then reads 128 contiguous bytes per row, as fp32's single columns do (2-byte single
//! columns: 64), and 16 rows of words (2 elements each, packed in one register: no spills at 64
//! registers) are in flight before their dependent accumulations: fp32's bytes in flight per SM.
template <typename T, typename Op>
__device__ void walkColumnPair(T const* x, T* y, int64_t start, int64_t step, int64_t length, bool exclusive)
{
    constexpr int kPairRows = 2 * kColumnUnroll;
    using Pair = Vec<T, 2>;
    float acc0 = Op::template identity<float>();
    float acc1 = Op::template identity<float>();
    for (int64_t j0 = 0; j0 < length; j0 += kPairRows)
    {
        unsigned int raw[kPairRows]; // both elements of a row, packed
#pragma unroll
        for (int u = 0; u < kPairRows; ++u)
        {
            raw[u] = j0 + u < length ? *reinterpret_cast<unsigned int const*>(x + start + (j0 + u) * step) : 0u;
        }
#pragma unroll
        for (int u = 0; u < kPairRows; ++u)
        {
            Pair in;
            memcpy(&in, &raw[u], sizeof(Pair));
            float const next0 = Op()(acc0, ScanType<T>::widen(in.v[0]));
            float const next1 = Op()(acc1, ScanType<T>::widen(in.v[1]));
            Pair out;
            out.v[0] = ScanType<T>::narrow(exclusive ? acc0 : next0);
            out.v[1] = ScanType<T>::narrow(exclusive ? acc1 : next1);
            unsigned int word;
            memcpy(&word, &out, sizeof(Pair));
            if (j0 + u < length)
            {
                *reinterpret_cast<unsigned int*>(y + start + (j0 + u) * step) = word;
            }
            acc0 = next0;
            acc1 = next1;
        }
    }
}

//! Whether the plain column walk takes columns in pairs (walkColumnPair): a 2-byte type, an even
//! inner extent (a pair never straddles two outer slices, and every row of it starts on an even
//! element) and x and y on 4 bytes. The switch back to single columns: kColumnPairs = false.
template <typename T>
__device__ bool walksColumnPairs(ScanGeometry const& g, void const* x, void const* y)
{
    return kColumnPairs && sizeof(T) == 2 && g.inner % 2 == 0 && reinterpret_cast<uintptr_t>(x) % 4 == 0
        && reinterpret_cast<uintptr_t>(y) % 4 == 0;
}

//! One thread per (outer, inner) column, columns `first`, `first + stride`, ... (or per pair of
//! columns, the same way: walksColumnPairs).
template <typename T, typename Op>
__device__ void scanColumns(
    T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, int64_t first, int64_t stride)
{
    using Acc = typename ScanType<T>::Acc;
    int64_t const columns = g.outer * g.inner;
    int64_t const step = o.reverse ? -g.inner : g.inner;
    if constexpr (sizeof(T) == 2)
    {
        if (walksColumnPairs<T>(g, x, y))
        {
            for (int64_t p = first; p < columns / 2; p += stride)
            {
                walkColumnPair<T, Op>(x, y, columnStart(g, 2 * p, o.reverse), step, g.length, o.exclusive);
            }
            return;
        }
    }
    for (int64_t c = first; c < columns; c += stride)
    {
        walkColumn<T, Op, true>(
            x, y, columnStart(g, c, o.reverse), step, 0, g.length, Op::template identity<Acc>(), o.exclusive);
    }
}

//! Few long columns (the plain column path would leave most of the GPU idle): a block takes 32
//! neighbouring columns (its lanes, coalesced) and splits their length into kWarpsPerBlock
//! segments (its warps). Each warp reduces its segment, the block shares the segment totals
//! through `totals` (kWarpsPerBlock x 32 accumulators), and each warp walks its segment again from
//! the total of the segments before it. Reads x twice: 1.5x a copy's traffic, 8x the parallelism.
template <typename T, typename Op>
__device__ void scanColumnSegments(
    T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, typename ScanType<T>::Acc* totals)
{
    using Acc = typename ScanType<T>::Acc;
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const segment = static_cast<int>(threadIdx.x / kWarp);
    int64_t const columns = g.outer * g.inner;
    int64_t const segmentLength = (g.length + kWarpsPerBlock - 1) / kWarpsPerBlock;
    int64_t const from = segment * segmentLength < g.length ? segment * segmentLength : g.length;
    int64_t const to = from + segmentLength < g.length ? from + segmentLength : g.length;
    int64_t const step = o.reverse ? -g.inner : g.inner;
    // The loop bound is the same for the whole block: every thread reaches each __syncthreads.
    for (int64_t group = blockIdx.x; group * kWarp < columns; group += gridDim.x)
    {
        int64_t const c = group * kWarp + lane;
        bool const active = c < columns;
        int64_t const start = active ? columnStart(g, c, o.reverse) : 0;
        Acc acc = Op::template identity<Acc>();
        if (active)
        {
            acc = walkColumn<T, Op, false>(x, y, start, step, from, to, acc, o.exclusive);
        }
        totals[segment * kWarp + lane] = acc;
        __syncthreads();
        acc = Op::template identity<Acc>();
        for (int s = 0; s < segment; ++s)
        {
            acc = Op()(acc, totals[s * kWarp + lane]);
        }
        if (active)
        {
            walkColumn<T, Op, true>(x, y, start, step, from, to, acc, o.exclusive);
        }
        __syncthreads(); // totals are read before the next group writes them
    }
}

//! Few long columns, read once: a block takes 32 neighbouring columns (its lanes, coalesced) and
//! walks down them in windows of kWarpsPerBlock * kRows rows, warp w holding rows
//! [w * kRows, (w + 1) * kRows) of the window in registers. Each warp scans its rows, the block
//! combines the warps' totals through `totals` (kWarpsPerBlock x 32 accumulators), and each warp
//! starts from the carry of the windows and warps before it. The segmented path reads x twice
//! (its second walk from DRAM at 128 MiB) and keeps 8 loads in flight between dependent stores;
//! here x is read once and a window's loads are all in flight at once.
template <typename T, typename Op>
__device__ void scanColumnWindows(
    T const* x, T* y, ScanGeometry const& g, ScanOptions const& o, typename ScanType<T>::Acc* totals)
{
    using Acc = typename ScanType<T>::Acc;
    // 8 rows per warp (4 for int64; fp16/bf16 with more spill at the 64 registers of 4 blocks per SM).
    constexpr int kRows = sizeof(T) > 4 ? kColumnUnroll / 2 : kColumnUnroll;
    int const lane = static_cast<int>(threadIdx.x % kWarp);
    int const warp = static_cast<int>(threadIdx.x / kWarp);
    int64_t const columns = g.outer * g.inner;
    int64_t const step = o.reverse ? -g.inner : g.inner;
    // The loop bounds are the same for the whole block: every thread reaches each __syncthreads.
    for (int64_t group = blockIdx.x; group * kWarp < columns; group += gridDim.x)
    {
        int64_t const c = group * kWarp + lane;
        bool const active = c < columns;
        int64_t const start = active ? columnStart(g, c, o.reverse) : 0;
        Acc carry = Op::template identity<Acc>();
        for (int64_t window = 0; window < g.length; window += kWarpsPerBlock * kRows)
        {
            int64_t const first = window + warp * kRows;
            Acc v[kRows]; // inclusive scan of the warp's rows
#pragma unroll
            for (int u = 0; u < kRows; ++u)
            {
                bool const inside = active && first + u < g.length;
                v[u] = inside ? ScanType<T>::widen(x[start + (first + u) * step]) : Op::template identity<Acc>();
            }
#pragma unroll
            for (int u = 1; u < kRows; ++u)
            {
                v[u] = Op()(v[u - 1], v[u]);
            }
            totals[warp * kWarp + lane] = v[kRows - 1];
            __syncthreads();
            Acc prefix = carry; // the same left fold for every warp and the next window's carry
#pragma unroll
            for (int s = 0; s < kWarpsPerBlock; ++s)
            {
                prefix = s == warp ? carry : prefix;
                carry = Op()(carry, totals[s * kWarp + lane]);
            }
            __syncthreads(); // totals are read before the next window writes them
#pragma unroll
            for (int u = 0; u < kRows; ++u)
            {
                if (active && first + u < g.length)
                {
                    Acc const out = o.exclusive ? (u == 0 ? prefix : Op()(prefix, v[u - 1])) : Op()(prefix, v[u]);
                    y[start + (first + u) * step] = ScanType<T>::narrow(out);
                }
            }
        }
    }
}

} // namespace cumulative_detail
} // namespace trtplug
