// Unique's kernels and device helpers (included by unique.cu only).
#pragma once

#include "common/launch.cuh"
#include "unique/unique.h"

namespace trtplug
{
namespace unique_detail
{

template <class T>
struct KeyOf;
template <>
struct KeyOf<float>
{
    using type = uint32_t;
};
template <>
struct KeyOf<__half>
{
    using type = uint16_t;
};
template <>
struct KeyOf<__nv_bfloat16>
{
    using type = uint16_t;
};
template <>
struct KeyOf<int32_t>
{
    using type = uint32_t;
};
template <>
struct KeyOf<int64_t>
{
    using type = uint64_t;
};

// Floats: sign-magnitude -> two's-order by flipping; -0.0 becomes +0.0 and every NaN one
// positive quiet NaN, so equal keys are NumPy-equal values and NaNs sort last.
__device__ __forceinline__ uint32_t orderedKey(float v)
{
    uint32_t b = isnan(v) ? 0x7fc00000u : __float_as_uint(v);
    b = b == 0x80000000u ? 0u : b;
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
__device__ __forceinline__ uint16_t orderedKey(__half v)
{
    uint16_t b = __half_as_ushort(v);
    b = ((b & 0x7c00u) == 0x7c00u && (b & 0x03ffu) != 0) ? uint16_t{0x7e00u} : b;
    b = b == 0x8000u ? uint16_t{0} : b;
    return (b & 0x8000u) ? static_cast<uint16_t>(~b) : static_cast<uint16_t>(b | 0x8000u);
}
// bf16: float32's upper half (8-bit exponent, 7-bit mantissa), keyed like the fp16 one.
__device__ __forceinline__ uint16_t orderedKey(__nv_bfloat16 v)
{
    uint16_t b = __bfloat16_as_ushort(v);
    b = ((b & 0x7f80u) == 0x7f80u && (b & 0x007fu) != 0) ? uint16_t{0x7fc0u} : b;
    b = b == 0x8000u ? uint16_t{0} : b;
    return (b & 0x8000u) ? static_cast<uint16_t>(~b) : static_cast<uint16_t>(b | 0x8000u);
}
__device__ __forceinline__ uint32_t orderedKey(int32_t v)
{
    return static_cast<uint32_t>(v) ^ 0x80000000u;
}
__device__ __forceinline__ uint64_t orderedKey(int64_t v)
{
    return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
}

__device__ __forceinline__ int64_t threadIndex()
{
    return int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t gridStride()
{
    return int64_t{gridDim.x} * blockDim.x;
}

//! keys[r * len + k] = key of element k of row r (row-major key matrix); ids[r] = r.
template <class T, class K>
__global__ void makeKeys(T const* __restrict__ x, K* __restrict__ keys, int32_t* __restrict__ ids, UniqueDims d)
{
    int64_t const len = d.outer * d.inner;
    int64_t const total = d.rows * len;
    for (int64_t e = threadIndex(); e < total || e < d.rows; e += gridStride())
    {
        if (e < total)
        {
            int64_t src = e;
            if (len != 1)
            {
                int64_t const r = e / len;
                int64_t const k = e - r * len;
                int64_t const o = k / d.inner;
                src = (o * d.rows + r) * d.inner + (k - o * d.inner);
            }
            keys[e] = orderedKey(x[src]);
        }
        if (e < d.rows)
        {
            ids[e] = static_cast<int32_t>(e);
        }
    }
}

//! Lexicographic order of two rows of the key matrix (merge sort comparator).
template <class K>
struct RowLess
{
    K const* keys;
    int64_t len;

    __device__ bool operator()(int32_t a, int32_t b) const
    {
        K const* ra = keys + a * len;
        K const* rb = keys + b * len;
        for (int64_t k = 0; k < len; ++k)
        {
            if (ra[k] != rb[k])
            {
                return ra[k] < rb[k];
            }
        }
        return false;
    }
};

//! Sorted position i starts a new group: radix path (keys already in sorted order).
template <class K>
struct SortedKeysDiffer
{
    K const* sorted;

    __device__ bool operator()(int64_t i, int32_t const*) const { return sorted[i] != sorted[i - 1]; }
};

//! Sorted position i starts a new group: row path (compare the rows the sorted ids name).
template <class K>
struct RowsDiffer
{
    K const* keys;
    int64_t len;

    __device__ bool operator()(int64_t i, int32_t const* order) const
    {
        RowLess<K> const less{keys, len};
        return less(order[i - 1], order[i]);
    }
};

template <class Differ>
__global__ void headFlags(Differ differ, int32_t const* __restrict__ order, int32_t* __restrict__ flags, int64_t rows)
{
    for (int64_t i = threadIndex(); i < rows; i += gridStride())
    {
        flags[i] = (i == 0 || differ(i, order)) ? 1 : 0;
    }
}

//! group1[i]: 1-based group of sorted position i. Records each group's first sorted position,
//! the count, and either (sorted: groups are the output slots) the inverse indices or
//! (unsorted: firstFlag set) which original rows are first occurrences.
__global__ void groupHeads(int32_t const* __restrict__ group1, int32_t const* __restrict__ order,
    int32_t* __restrict__ headPos, int32_t* __restrict__ firstFlag, int64_t* __restrict__ inverse,
    int32_t* __restrict__ count, int64_t rows)
{
    for (int64_t i = threadIndex(); i < rows; i += gridStride())
    {
        int32_t const g1 = group1[i];
        if (inverse != nullptr)
        {
            inverse[order[i]] = g1 - 1;
        }
        if (i == 0 || group1[i - 1] != g1)
        {
            headPos[g1 - 1] = static_cast<int32_t>(i);
            if (firstFlag != nullptr)
            {
                firstFlag[order[i]] = 1;
            }
        }
        if (i == rows - 1)
        {
            *count = g1;
            headPos[g1] = static_cast<int32_t>(rows);
        }
    }
}

//! Per group g < count: its output slot (g, or its rank by first occurrence), first index, count.
__global__ void groupOutputs(int32_t const* __restrict__ headPos, int32_t const* __restrict__ order,
    int32_t const* __restrict__ firstRank, int32_t const* __restrict__ count, int32_t* __restrict__ slot,
    int64_t* __restrict__ indices, int64_t* __restrict__ counts, int64_t rows)
{
    int32_t const n = *count;
    for (int64_t g = threadIndex(); g < n; g += gridStride())
    {
        int32_t const h = headPos[g];
        int32_t const first = order[h];
        int32_t const s = firstRank != nullptr ? firstRank[first] : static_cast<int32_t>(g);
        slot[g] = s;
        indices[s] = first;
        counts[s] = headPos[g + 1] - h;
    }
}

__global__ void inverseIndices(int32_t const* __restrict__ order, int32_t const* __restrict__ group1,
    int32_t const* __restrict__ slot, int64_t* __restrict__ inverse, int64_t rows)
{
    for (int64_t i = threadIndex(); i < rows; i += gridStride())
    {
        inverse[order[i]] = slot[group1[i] - 1];
    }
}

//! y (outer, count, inner) gathered from x (outer, rows, inner) at the first occurrences.
template <class E>
__global__ void gatherRows(E const* __restrict__ x, E* __restrict__ y, int64_t const* __restrict__ indices,
    int32_t const* __restrict__ count, UniqueDims d)
{
    int64_t const slab = int64_t{*count} * d.inner;
    int64_t const live = d.outer * slab;
    for (int64_t e = threadIndex(); e < live; e += gridStride())
    {
        int64_t const o = e / slab;
        int64_t const rest = e - o * slab;
        int64_t const r = rest / d.inner;
        y[e] = x[(o * d.rows + indices[r]) * d.inner + (rest - r * d.inner)];
    }
}

} // namespace unique_detail
} // namespace trtplug
