// Register-resident tensor-core prefill of the attention core (attention_core.h), FlashAttention-2
// style: 64 query rows of one head per block (16 per warp), 64-key K/V tiles double-buffered in
// shared memory by cp.async, S = Q K^T and O += P V as mma.sync m16n8k16 with float32
// accumulators that never leave registers (the P fragments are the S accumulators, converted),
// online softmax on the fragments. The WMMA kernel (attention_mma.cuh) kept S, P and O in shared
// memory and reached 16 TFLOP/s on the H200. This path takes fp16/bf16, head sizes 64 and 128
// (causal, window, key counts, softcap, scale, sinks, and mask and bias tensors in an instance of
// their own); the other head sizes stay on the WMMA kernel. Included (through
// attention_flash_launch.cuh and attention_decode_mma.cuh) only into attention_core.cu.
#pragma once

#include "common/attention_kernels.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace trtplug
{
namespace attention
{

constexpr int kFlashRows = 64; //!< query rows per block
constexpr int kFlashKeys = 64; //!< keys per tile
constexpr int kFlashThreads = 128;

//! Row stride of a shared tile of head size kD: 8 elements of padding put the 8 rows an ldmatrix
//! reads in different banks.
template <int kD>
constexpr int kFlashStride = kD + 8;

template <int kD>
constexpr size_t flashSharedBytes()
{
    return static_cast<size_t>(kFlashRows + 4 * kFlashKeys) * kFlashStride<kD> * 2; // Q, 2 x K, 2 x V
}

__device__ __forceinline__ uint32_t sharedAddress(void const* p)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

//! 16 bytes global -> shared, asynchronously; `bytes` 0 writes zeros (rows past the keys).
__device__ __forceinline__ void copyAsync16(void* dst, void const* src, int bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(sharedAddress(dst)), "l"(src), "r"(bytes));
}

__device__ __forceinline__ void commitCopies()
{
    asm volatile("cp.async.commit_group;\n" ::);
}

__device__ __forceinline__ void waitCopies()
{
    asm volatile("cp.async.wait_group 0;\n" ::);
}

__device__ __forceinline__ void loadMatrices(uint32_t (&r)[4], void const* p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(sharedAddress(p)));
}

__device__ __forceinline__ void loadMatricesTransposed(uint32_t (&r)[4], void const* p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(sharedAddress(p)));
}

//! d += a (16x16, row) * b (16x8, col), float32 accumulators.
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], uint32_t const (&a)[4], uint32_t b0, uint32_t b1)
{
    if constexpr (std::is_same<T, __half>::value)
    {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
    else
    {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
            "{%0, %1, %2, %3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

//! Two floats as one 32-bit register of T pairs (the low half is x).
template <typename T>
__device__ __forceinline__ uint32_t packPair(float x, float y)
{
    if constexpr (std::is_same<T, __half>::value)
    {
        __half2 const h = __floats2half2_rn(x, y);
        return *reinterpret_cast<uint32_t const*>(&h);
    }
    else
    {
        __nv_bfloat162 const h = __floats2bfloat162_rn(x, y);
        return *reinterpret_cast<uint32_t const*>(&h);
    }
}

//! Starts copying `rows` rows of kD elements (view rows first.., zeros from `limit` on) into a
//! padded shared tile (T of 2 or 4 bytes: 8 or 4 elements a 16-byte chunk).
template <typename T, int kD>
__device__ __forceinline__ void copyTile(T* tile, T const* base, int64_t seqStride, int32_t first, int32_t limit, int rows)
{
    constexpr int kPerChunk = 16 / sizeof(T);
    constexpr int kChunks = kD / kPerChunk; // 16-byte chunks per row
    for (int idx = threadIdx.x; idx < rows * kChunks; idx += kFlashThreads)
    {
        int const r = idx / kChunks;
        int const c = (idx - r * kChunks) * kPerChunk;
        int32_t const row = first + r;
        bool const inside = row < limit;
        T const* src = base + (inside ? static_cast<int64_t>(row) * seqStride + c : 0);
        copyAsync16(tile + r * kFlashStride<kD> + c, src, inside ? 16 : 0);
    }
}

//! Whether key j is masked for a query at `position` (the mask rules of keyMasked without tensors).
__device__ __forceinline__ bool flashMasked(AttentionProblem const& p, int32_t j, int32_t position, int32_t valid)
{
    return j >= valid || (p.causal && j > position) || (p.windowLeft >= 0 && j < position - p.windowLeft);
}

//! Where a prefill warp's two fragment rows (g and g + 8) sit: batch, head and query rows, for the
//! mask and bias tensors' rows (rows past qLen read row qLen - 1: they are never written).
struct FragmentRows
{
    int32_t b{0};
    int32_t h{0};
    int32_t i[2]{0, 0};
};

__device__ __forceinline__ FragmentRows fragmentRows(AttentionProblem const& p, int32_t b, int32_t h, int32_t row0)
{
    int32_t const g = row0 + threadIdx.x % 32 / 4;
    return FragmentRows{b, h, {min(g, p.qLen - 1), min(g + 8, p.qLen - 1)}};
}

//! The logits of the accumulators s (scale * Q K^T so far): element e of tile n is key tile + 8n +
//! keyOf(2 (lane % 4) + e % 2) of fragment row e / 2, at query position pos[e / 2]. Without
//! kTensors: capped, then masked by position; with them, logit's rules (mask tensor, bias added
//! before or after the cap) at `rows`.
template <typename T, int kTiles, bool kTensors, typename KeyOf>
__device__ __forceinline__ void finishLogits(AttentionProblem const& p, float (&s)[kTiles][4], int32_t tile,
    int32_t const (&pos)[2], int32_t valid, float scale, KeyOf keyOf, FragmentRows const& rows)
{
    int const lane = threadIdx.x % 32;
    bool const cap = p.softcap > 0.F;
#pragma unroll
    for (int n = 0; n < kTiles; ++n)
    {
#pragma unroll
        for (int e = 0; e < 4; ++e)
        {
            int32_t const j = tile + 8 * n + keyOf(2 * (lane % 4) + e % 2);
            float v = s[n][e] * scale;
            if constexpr (kTensors)
            {
                s[n][e] = logit<T>(p, RowPlace{rows.b, rows.h, rows.i[e / 2], pos[e / 2], valid}, j, v);
            }
            else
            {
                v = cap ? p.softcap * tanhf(v / p.softcap) : v;
                s[n][e] = flashMasked(p, j, pos[e / 2], valid) ? -INFINITY : v;
            }
        }
    }
}

//! Column c of an S accumulator tile holds key c (the 16-bit kernels' order).
struct KeysInOrder
{
    __device__ __forceinline__ int operator()(int c) const
    {
        return c;
    }
};

//! S (16 rows x 8 kTiles keys per warp, as kTiles accumulators of 16x8; kTiles even) = scale *
//! Q K^T, capped and masked (finishLogits); thread rows g and g + 8 of the warp's 16 sit at query
//! positions pos[0], pos[1]. The prefill takes 64 keys a tile (kTiles 8), the decode 16 per warp.
template <typename T, int kD, int kTiles = 8, bool kTensors = false>
__device__ __forceinline__ void scoreTile(AttentionProblem const& p, uint32_t const (&q)[kD / 16][4], T const* kTile,
    int32_t tile, int32_t const (&pos)[2], int32_t valid, float scale, float (&s)[kTiles][4],
    FragmentRows const& rows = FragmentRows{})
{
    int const lane = threadIdx.x % 32;
#pragma unroll
    for (int n = 0; n < kTiles; ++n)
    {
        s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.F;
    }
#pragma unroll
    for (int kk = 0; kk < kD / 16; ++kk)
    {
#pragma unroll
        for (int n = 0; n < kTiles; n += 2) // one ldmatrix.x4: keys 8n..8n+15, dims 16kk..16kk+15
        {
            int const key = 8 * n + lane % 8 + (lane / 16) * 8;
            int const dim = 16 * kk + ((lane / 8) % 2) * 8;
            uint32_t b[4];
            loadMatrices(b, kTile + key * kFlashStride<kD> + dim);
            mma16816<T>(s[n], q[kk], b[0], b[1]);
            mma16816<T>(s[n + 1], q[kk], b[2], b[3]);
        }
    }
    finishLogits<T, kTiles, kTensors>(p, s, tile, pos, valid, scale, KeysInOrder{}, rows);
}

//! The online-softmax step of the thread's two rows: new maxima, rescaled O and l, P in s.
template <int kD, int kTiles = 8>
__device__ __forceinline__ void softmaxStep(float (&s)[kTiles][4], float (&m)[2], float (&l)[2], float (&o)[kD / 8][4])
{
#pragma unroll
    for (int h = 0; h < 2; ++h) // h: row g (elements 0, 1) or g + 8 (elements 2, 3)
    {
        float top = m[h];
#pragma unroll
        for (int n = 0; n < kTiles; ++n)
        {
            top = fmaxf(top, fmaxf(s[n][2 * h], s[n][2 * h + 1]));
        }
        top = fmaxf(top, __shfl_xor_sync(0xffffffffU, top, 1)); // the 4 lanes holding the row
        top = fmaxf(top, __shfl_xor_sync(0xffffffffU, top, 2));
        float const base = top == -INFINITY ? 0.F : top; // a row with nothing yet keeps zeros
        float const alpha = __expf(m[h] - base);
        float sum = 0.F;
#pragma unroll
        for (int n = 0; n < kTiles; ++n)
        {
            s[n][2 * h] = __expf(s[n][2 * h] - base);
            s[n][2 * h + 1] = __expf(s[n][2 * h + 1] - base);
            sum += s[n][2 * h] + s[n][2 * h + 1];
        }
        l[h] = l[h] * alpha + sum; // per-thread part of the row sum; the quad adds up at the end
#pragma unroll
        for (int n = 0; n < kD / 8; ++n)
        {
            o[n][2 * h] *= alpha;
            o[n][2 * h + 1] *= alpha;
        }
        m[h] = top;
    }
}

//! O += P V for one tile: P's A fragments are the S accumulators of keys 16kk..16kk+15.
template <typename T, int kD, int kTiles = 8>
__device__ __forceinline__ void accumulateTile(float const (&s)[kTiles][4], T const* vTile, float (&o)[kD / 8][4])
{
    int const lane = threadIdx.x % 32;
#pragma unroll
    for (int kk = 0; kk < kTiles / 2; ++kk)
    {
        uint32_t const a[4] = {packPair<T>(s[2 * kk][0], s[2 * kk][1]), packPair<T>(s[2 * kk][2], s[2 * kk][3]),
            packPair<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]), packPair<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int n = 0; n < kD / 8; n += 2) // one ldmatrix.x4.trans: keys 16kk.., dims 8n..8n+15
        {
            int const key = 16 * kk + lane % 8 + ((lane / 8) % 2) * 8;
            int const dim = 8 * n + (lane / 16) * 8;
            uint32_t b[4];
            loadMatricesTransposed(b, vTile + key * kFlashStride<kD> + dim);
            mma16816<T>(o[n], a, b[0], b[1]);
            mma16816<T>(o[n + 1], a, b[2], b[3]);
        }
    }
}

//! The kKeys-key K/V tiles from `tile` (already in buffer 0) up to hi, double-buffered: while
//! use(firstKey, offset) reads the tile at `offset` elements into the K/V tile buffers, load(firstKey,
//! offset) starts copying the next one into the other buffer. Every thread of the block must call
//! it (it synchronizes them).
template <int kD, int kKeys = kFlashKeys, typename Load, typename Use>
__device__ __forceinline__ void forEachKeyTile(int32_t tile, int32_t hi, Load load, Use use)
{
    for (int buffer = 0; tile < hi; tile += kKeys, buffer ^= 1)
    {
        if (tile + kKeys < hi) // prefetch the next tile into the other buffer
        {
            load(tile + kKeys, (buffer ^ 1) * kKeys * kFlashStride<kD>);
        }
        commitCopies();
        use(tile, buffer * kKeys * kFlashStride<kD>);
        waitCopies();
        __syncthreads(); // the next tile has landed; nobody reads this buffer before it is refilled
    }
}

//! Writes the thread's two rows: O / l merged with the sink (rowScale), or the empty-row fill.
template <typename T, int kD>
__device__ __forceinline__ void writeFlashRows(
    AttentionProblem const& p, int32_t b, int32_t h, int32_t row0, float const (&m)[2], float (&l)[2], float const (&o)[kD / 8][4])
{
    int const lane = threadIdx.x % 32;
#pragma unroll
    for (int r = 0; r < 2; ++r)
    {
        l[r] += __shfl_xor_sync(0xffffffffU, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffU, l[r], 2);
        int32_t const i = row0 + lane / 4 + 8 * r;
        if (i >= p.qLen)
        {
            continue;
        }
        RowScale const rs = rowScale<T>(p, h, m[r], l[r]);
        float const fill = p.zeroFullyMaskedRows ? 0.F : NAN;
        T* out = static_cast<T*>(p.out.data) + b * p.out.batchStride + h * p.out.headStride
            + static_cast<int64_t>(i) * p.out.seqStride;
#pragma unroll
        for (int n = 0; n < kD / 8; ++n)
        {
            int const d = 8 * n + 2 * (lane % 4);
            out[d] = fromFloat<T>(rs.empty ? fill : o[n][2 * r] * rs.inv);
            out[d + 1] = fromFloat<T>(rs.empty ? fill : o[n][2 * r + 1] * rs.inv);
        }
    }
}

//! grid (ceil(qLen / 64), qHeads, batch), kFlashThreads threads, flashSharedBytes<kD>() dynamic
//! shared memory. Needs T = __half or __nv_bfloat16, headDim == vHeadDim == kD, 16-byte-aligned
//! rows of Q, K and V (strides multiples of 8 elements); kTensors: the problem has a mask or bias
//! tensor (its reads are compiled only into that instance).
template <typename T, int kD, bool kTensors>
__global__ void __launch_bounds__(kFlashThreads) attentionFlashKernel(AttentionProblem p)
{
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    extern __shared__ __align__(128) unsigned char flashSmem[];
    T* qTile = reinterpret_cast<T*>(flashSmem);
    T* kTiles = qTile + kFlashRows * kFlashStride<kD>;
    T* vTiles = kTiles + 2 * kFlashKeys * kFlashStride<kD>;
    int32_t const b = blockIdx.z;
    int32_t const h = blockIdx.y;
    int32_t const kvHead = h / (p.qHeads / p.kvHeads);
    int32_t const rowBase = blockIdx.x * kFlashRows;
    int const warp = threadIdx.x / 32;
    int const lane = threadIdx.x % 32;
    int32_t lo = 0;
    int32_t hi = 0;
    keyRange(p, b, rowBase, min(p.qLen, rowBase + kFlashRows) - 1, 0, 1, lo, hi);
    int32_t const valid = validKeys(p, b);
    int32_t const row0 = rowBase + warp * 16;
    int32_t const pos[2] = {rowStart(p, b) + row0 + lane / 4, rowStart(p, b) + row0 + lane / 4 + 8};
    FragmentRows const rows = fragmentRows(p, b, h, row0);
    float const scale = p.scale != 0.F ? p.scale : rsqrtf(static_cast<float>(kD));
    T const* kBase = static_cast<T const*>(p.k.data) + b * p.k.batchStride + kvHead * p.k.headStride;
    T const* vBase = static_cast<T const*>(p.v.data) + b * p.v.batchStride + kvHead * p.v.headStride;
    int32_t tile = lo / kFlashKeys * kFlashKeys;
    copyTile<T, kD>(qTile, static_cast<T const*>(p.q.data) + b * p.q.batchStride + h * p.q.headStride, p.q.seqStride,
        rowBase, p.qLen, kFlashRows);
    auto const load = [&](int32_t first, int offset) {
        copyTile<T, kD>(kTiles + offset, kBase, p.k.seqStride, first, hi, kFlashKeys);
        copyTile<T, kD>(vTiles + offset, vBase, p.v.seqStride, first, hi, kFlashKeys);
    };
    load(tile, 0);
    commitCopies();
    waitCopies();
    __syncthreads();
    uint32_t q[kD / 16][4];
#pragma unroll
    for (int kk = 0; kk < kD / 16; ++kk)
    {
        int const row = warp * 16 + lane % 8 + ((lane / 8) % 2) * 8;
        loadMatrices(q[kk], qTile + row * kFlashStride<kD> + 16 * kk + (lane / 16) * 8);
    }
    float o[kD / 8][4] = {};
    float m[2] = {-INFINITY, -INFINITY};
    float l[2] = {0.F, 0.F};
    forEachKeyTile<kD>(tile, hi, load, [&](int32_t keys, int current) {
        float s[8][4];
        scoreTile<T, kD, 8, kTensors>(p, q, kTiles + current, keys, pos, min(valid, hi), scale, s, rows);
        softmaxStep<kD>(s, m, l, o);
        accumulateTile<T, kD>(s, vTiles + current, o);
    });
    writeFlashRows<T, kD>(p, b, h, row0, m, l, o);
#endif
}

} // namespace attention
} // namespace trtplug
