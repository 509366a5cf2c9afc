// GroupQueryAttention's cache lengths and row copies (see gqa_cache.h).
#include "group_query_attention/gqa_cache.h"

#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"

#include <cstring>

namespace trtplug
{
namespace
{

constexpr int32_t kLengthThreads = 256;

//! past_b (0 on a first prompt, S == total, else T_b - S, clamped into the buffers) and T_b.
__global__ void growingLengthsKernel(int32_t const* seqlensK, int32_t const* total, int32_t batch, int32_t seqLen,
    int32_t pastLen, int32_t presentLen, int32_t keyLimit, CacheLengths l)
{
    int32_t const b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch)
    {
        return;
    }
    int32_t const tokens = seqlensK[b] + 1;
    int32_t past = seqLen == *total ? 0 : tokens - seqLen;
    past = max(0, min(past, min(pastLen, presentLen - seqLen)));
    l.qStart[b] = past;
    l.kvValid[b] = max(0, min(tokens, keyLimit));
    l.rotaryStart[b] = past;
    l.append[b] = CacheRows{past, past + seqLen, 0};
}

//! L(T): the rows of a windowed buffer (capacity >= window >= 1) that hold a T-token sequence.
__device__ int32_t keptRows(int32_t tokens, int32_t capacity, int32_t window)
{
    return tokens <= capacity ? tokens : window + (tokens - window) % (capacity - window + 1);
}

//! The windowed step: the past holds L(T - S) rows, present keeps the last L(T) of past ++ new.
//! A decode step attends over present itself (its L(T) >= W rows hold every key the window
//! reaches); a longer step over the joined scratch rows.
__global__ void windowedLengthsKernel(int32_t const* seqlensK, int32_t batch, int32_t seqLen, int32_t capacity,
    int32_t window, bool joined, CacheLengths l)
{
    int32_t const b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch)
    {
        return;
    }
    int32_t const tokens = max(seqlensK[b] + 1, 0);
    int32_t const before = max(tokens - seqLen, 0); // fewer tokens than S: right padding, refused by ONNX Runtime
    int32_t const pastRows = keptRows(before, capacity, window);
    int32_t const kept = keptRows(tokens, capacity, window);
    l.rotaryStart[b] = before;
    if (joined)
    {
        l.append[b] = CacheRows{pastRows, pastRows + seqLen, 0};
        l.keep[b] = CacheRows{pastRows + seqLen, kept, pastRows + seqLen - kept};
        l.qStart[b] = pastRows;
        l.kvValid[b] = pastRows + seqLen;
        return;
    }
    l.append[b] = CacheRows{pastRows, kept, pastRows + seqLen - kept};
    l.qStart[b] = max(kept - seqLen, 0);
    l.kvValid[b] = kept;
}

//! Word d of out row r of (b, h) as c says: a past row, a fresh row, or zeros (all-zero bits: 0 in
//! every float type).
template <typename W>
__device__ __forceinline__ W cacheWord(HeadView const& fresh, W const* past, CacheRows const& c, int64_t bh,
    int32_t b, int32_t h, int32_t r, int32_t d, int32_t pastRows, int32_t headWords)
{
    W value;
    memset(&value, 0, sizeof(W));
    int32_t const source = r + c.shift;
    if (r < c.kept && source < c.fromPast)
    {
        value = past[(bh * pastRows + source) * headWords + d];
    }
    else if (r < c.kept)
    {
        value = static_cast<W const*>(fresh.data)[b * fresh.batchStride + h * fresh.headStride
            + static_cast<int64_t>(source - c.fromPast) * fresh.seqStride + d];
    }
    return value;
}

//! out[b, h, r] as rows[b] says, in words W of sizeof(W) / sizeof(T) elements; strides of `fresh`
//! and the head size are in words here.
template <typename W>
__global__ void copyRowsKernel(HeadView fresh, W const* past, W* out, CacheRows const* rows, int32_t kvHeads,
    int32_t pastRows, int32_t outRows, int32_t headWords, int64_t total)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const row = i / headWords;
        int32_t const d = static_cast<int32_t>(i - row * headWords);
        int64_t const bh = row / outRows;
        int32_t const r = static_cast<int32_t>(row - bh * outRows);
        int32_t const b = static_cast<int32_t>(bh / kvHeads);
        int32_t const h = static_cast<int32_t>(bh - static_cast<int64_t>(b) * kvHeads);
        out[i] = cacheWord(fresh, past, rows[b], bh, b, h, r, d, pastRows, headWords);
    }
}

//! copyRowsKernel for the rows whose source is not the past (r >= fromPast - shift: the new rows,
//! then zeros), one block per (b, h): the rest of present when the attention copies the past
//! (PastCopy). A decode step writes one row per (b, h), where copyRowsKernel writes them all.
template <typename W>
__global__ void copyFreshRowsKernel(
    HeadView fresh, W* out, CacheRows const* rows, int32_t kvHeads, int32_t outRows, int32_t headWords)
{
    int64_t const bh = blockIdx.x;
    int32_t const b = static_cast<int32_t>(bh / kvHeads);
    int32_t const h = static_cast<int32_t>(bh - static_cast<int64_t>(b) * kvHeads);
    CacheRows const c = rows[b];
    int32_t const first = max(0, min(c.fromPast - c.shift, outRows));
    int64_t const words = static_cast<int64_t>(outRows - first) * headWords;
    for (int64_t i = threadIdx.x; i < words; i += blockDim.x)
    {
        int32_t const r = first + static_cast<int32_t>(i / headWords);
        int32_t const d = static_cast<int32_t>(i % headWords);
        out[(bh * outRows + r) * headWords + d] = cacheWord<W>(fresh, nullptr, c, bh, b, h, r, d, 0, headWords);
    }
}

constexpr int kFreshRowThreads = 128;

template <typename W>
cudaError_t copyWords(GqaArgs const& a, HeadView fresh, void const* past, int32_t pastRows, void* out, int32_t outRows,
    CacheRows const* rows, int64_t elemsPerWord, bool freshOnly, cudaStream_t stream) noexcept
{
    fresh.batchStride /= elemsPerWord;
    fresh.headStride /= elemsPerWord;
    fresh.seqStride /= elemsPerWord;
    auto const headWords = static_cast<int32_t>(a.headSize / elemsPerWord);
    if (freshOnly)
    {
        auto const blocks = static_cast<unsigned>(static_cast<int64_t>(a.batch) * a.kvNumHeads);
        copyFreshRowsKernel<W><<<blocks, kFreshRowThreads, 0, stream>>>(
            fresh, static_cast<W*>(out), rows, a.kvNumHeads, outRows, headWords);
        return cudaGetLastError();
    }
    int64_t const total = static_cast<int64_t>(a.batch) * a.kvNumHeads * outRows * headWords;
    copyRowsKernel<W><<<gridFor(total), kBlockThreads, 0, stream>>>(fresh, static_cast<W const*>(past),
        static_cast<W*>(out), rows, a.kvNumHeads, pastRows, outRows, headWords, total);
    return cudaGetLastError();
}

bool aligned16(void const* p) noexcept
{
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

} // namespace

size_t cacheLengthsBytes(int32_t batch) noexcept
{
    auto const n = static_cast<size_t>(batch);
    return 3 * gqaAlignUp(n * sizeof(int32_t)) + 2 * gqaAlignUp(n * sizeof(CacheRows));
}

CacheLengths carveCacheLengths(void* base, int32_t batch) noexcept
{
    auto* p = static_cast<char*>(base);
    size_t const ints = gqaAlignUp(static_cast<size_t>(batch) * sizeof(int32_t));
    size_t const rows = gqaAlignUp(static_cast<size_t>(batch) * sizeof(CacheRows));
    CacheLengths l{};
    l.qStart = reinterpret_cast<int32_t*>(p);
    l.kvValid = reinterpret_cast<int32_t*>(p + ints);
    l.rotaryStart = reinterpret_cast<int32_t*>(p + 2 * ints);
    l.append = reinterpret_cast<CacheRows*>(p + 3 * ints);
    l.keep = reinterpret_cast<CacheRows*>(p + 3 * ints + rows);
    return l;
}

cudaError_t launchCacheLengths(GqaArgs const& a, CacheLengths const& l, int32_t keyLimit, cudaStream_t stream) noexcept
{
    int32_t const blocks = (a.batch + kLengthThreads - 1) / kLengthThreads;
    if (a.slidingWindowCache)
    {
        windowedLengthsKernel<<<blocks, kLengthThreads, 0, stream>>>(
            a.seqlensK, a.batch, a.seqLen, a.pastLen, a.localWindowSize, joinsInScratch(a), l);
    }
    else
    {
        growingLengthsKernel<<<blocks, kLengthThreads, 0, stream>>>(
            a.seqlensK, a.totalSeqLen, a.batch, a.seqLen, a.pastLen, a.presentLen, keyLimit, l);
    }
    return cudaGetLastError();
}

cudaError_t copyCacheRows(GqaArgs const& a, HeadView fresh, void const* past, int32_t pastRows, void* out,
    int32_t outRows, CacheRows const* rows, cudaStream_t stream, bool freshOnly) noexcept
{
    if (static_cast<int64_t>(a.batch) * a.kvNumHeads * outRows * a.headSize == 0)
    {
        return cudaSuccess;
    }
    auto const perVector = static_cast<int64_t>(16 / dtypeSize(a.dtype));
    bool const vectors = a.headSize % perVector == 0 && fresh.batchStride % perVector == 0
        && fresh.headStride % perVector == 0 && fresh.seqStride % perVector == 0 && aligned16(fresh.data)
        && aligned16(past) && aligned16(out);
    if (vectors)
    {
        return copyWords<uint4>(a, fresh, past, pastRows, out, outRows, rows, perVector, freshOnly, stream);
    }
    return forFloatOrBf16Type(a.dtype, [&](auto t) {
        using T = decltype(t);
        return copyWords<T>(a, fresh, past, pastRows, out, outRows, rows, 1, freshOnly, stream);
    });
}

} // namespace trtplug
